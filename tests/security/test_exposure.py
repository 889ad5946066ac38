"""The server refuses to listen beyond loopback with auth off, unless told ``--insecure``."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from live_server import serve_command
from sessiondb.api.app import refuse_if_exposed
from sessiondb.api.auth import AuthConfig
from sessiondb.cli import app as cli

runner = CliRunner()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Stands in for uvicorn.run, recording what would have been served."""
    calls: dict[str, Any] = {}
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda api, **kwargs: calls.update(kwargs, app=api))
    monkeypatch.setattr(
        "sessiondb.cli.serve._run_one_process", lambda api, _pending, **kwargs: calls.update(kwargs, app=api)
    )
    # No server listens, so whether the port (or IPv6) is available here does not matter.
    monkeypatch.setattr("sessiondb.cli.serve._check_port", lambda host, port: None)
    for name in ("SESSIONDB_SECURITY_KEY", "OS_SECURITY_KEY", "SESSIONDB_JWT_SECRET", "SESSIONDB_INSECURE"):
        monkeypatch.delenv(name, raising=False)
    return calls


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_exposed_without_auth_is_refused(served: dict[str, Any], host: str) -> None:
    result = runner.invoke(cli, ["serve", "--db", "memory", "--host", host])

    assert result.exit_code == 2
    assert f"refusing to listen on {host} with auth off" in result.output
    assert "--insecure" in result.output
    assert served == {}


def test_a_refused_serve_opens_no_database(served: dict[str, Any], tmp_path: Path) -> None:
    # A SQLite store creates its file's directory when opened: a refusal must come first.
    database = tmp_path / "not" / "yet" / "sessions.db"

    result = runner.invoke(cli, ["serve", "--db", str(database), "--host", "0.0.0.0"])

    assert result.exit_code == 2
    assert not (tmp_path / "not").exists()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_needs_no_auth(served: dict[str, Any], host: str) -> None:
    result = runner.invoke(cli, ["serve", "--db", "memory", "--host", host])

    assert result.exit_code == 0, result.output
    assert served["host"] == host


@pytest.mark.parametrize(
    "extra",
    [["--security-key", "k"], ["--jwt-secret", "a-jwt-secret-long-enough-for-hs256"]],
    ids=["security-key", "jwt"],
)
def test_exposed_with_auth_is_served(
    served: dict[str, Any], extra: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        result = runner.invoke(cli, ["serve", "--db", "memory", "--host", "0.0.0.0", *extra])

    assert result.exit_code == 0, result.output
    assert served["host"] == "0.0.0.0"
    assert "AUTH IS OFF" not in caplog.text


def _insecure_by_flag(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    return ["--insecure"], {}


def _insecure_by_env(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    return [], {"SESSIONDB_INSECURE": "1"}


def _insecure_by_config(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    config = tmp_path / "sessiondb.toml"
    config.write_text("insecure = true\n")
    return ["--config", str(config)], {}


@pytest.mark.parametrize(
    "how", [_insecure_by_flag, _insecure_by_env, _insecure_by_config], ids=["flag", "env", "config"]
)
def test_insecure_serves_exposed_without_auth_and_warns(
    served: dict[str, Any], caplog: pytest.LogCaptureFixture, tmp_path: Path, how: Any
) -> None:
    args, env = how(tmp_path)
    with caplog.at_level(logging.WARNING):
        result = runner.invoke(cli, ["serve", "--db", "memory", "--host", "0.0.0.0", *args], env=env)

    assert result.exit_code == 0, result.output
    assert served["host"] == "0.0.0.0"
    assert "AUTH IS OFF" in caplog.text


def test_an_app_without_auth_is_refused_exposed_and_one_with_auth_is_served(
    served: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "exposure_apps.py").write_text(
        "from sessiondb.api import AuthConfig, create_app\n"
        "from sessiondb.db.memory import InMemoryDb\n"
        "open_app = create_app(dbs=[InMemoryDb()])\n"
        "guarded_app = create_app(dbs=[InMemoryDb()], auth=AuthConfig(security_key='k'))\n"
    )
    monkeypatch.chdir(tmp_path)

    refused = runner.invoke(cli, ["serve", "--app", "exposure_apps:open_app", "--host", "0.0.0.0"])
    guarded = runner.invoke(cli, ["serve", "--app", "exposure_apps:guarded_app", "--host", "0.0.0.0"])

    assert refused.exit_code == 2 and "refusing to listen" in refused.output
    assert guarded.exit_code == 0, guarded.output


def test_refuse_if_exposed_rules() -> None:
    refuse_if_exposed("127.0.0.1", None, insecure=False)
    refuse_if_exposed("0.0.0.0", AuthConfig(security_key="k"), insecure=False)
    refuse_if_exposed("0.0.0.0", None, insecure=True)
    with pytest.raises(ValueError, match="refusing"):
        refuse_if_exposed("0.0.0.0", AuthConfig(), insecure=False)


def test_the_real_command_exits_before_binding() -> None:
    env_free = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    result = subprocess.run(
        serve_command(["--db", "memory", "--host", "0.0.0.0", "--port", "1"]),
        capture_output=True,
        text=True,
        timeout=60,
        env=env_free,
    )

    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0" in result.stderr
