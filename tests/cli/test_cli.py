"""The ``sessiondb`` command: migrate, sessions list/show/delete, and how serve is configured."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sessiondb.api import AuthConfig
from sessiondb.api.serve import ServeSettings, resolve_settings, split_db_arg, store_from_url
from sessiondb.cli import app
from sessiondb.db import InMemoryDb, PostgresDb, SqliteDb
from sessiondb.run import Message, RunInput, RunOutput
from sessiondb.session import AgentSession

runner = CliRunner()


@pytest.fixture
def db_file(tmp_path: Path) -> str:
    """A SQLite file with two sessions of alice and bob; alice's has one run."""
    path = tmp_path / "cli.db"
    store = SqliteDb(db_file=path)
    run = RunOutput(
        run_id="r1",
        agent_id="a1",
        status="COMPLETED",
        content="hi there",
        input=RunInput(input_content="hello"),
        messages=[Message(role="user", content="hello"), Message(role="assistant", content="hi there")],
    )
    store.upsert_session(AgentSession(session_id="alice-1", user_id="alice", agent_id="a1", runs=[run]))
    store.upsert_session(AgentSession(session_id="bob-1", user_id="bob", agent_id="a1"))
    store.close()
    return str(path)


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"

    result = runner.invoke(app, ["migrate", "--db", f"main={path}"])

    assert result.exit_code == 0, result.output
    assert f"created table sessiondb_sessions in {path} (new file) at revision" in result.output
    # A store that refuses to migrate by itself finds the schema ready.
    store = SqliteDb(db_file=path, auto_migrate=False)
    assert store.get_sessions(_query()).total_count == 0
    store.close()


def _query() -> Any:
    from sessiondb.db.query import SessionQuery

    return SessionQuery()


def test_list_prints_a_table(db_file: str) -> None:
    result = runner.invoke(app, ["sessions", "list", "--db", db_file])

    assert result.exit_code == 0, result.output
    assert "alice-1" in result.output and "bob-1" in result.output
    assert "2 in all" in result.output


def test_list_json_filters_by_user(db_file: str) -> None:
    result = runner.invoke(app, ["sessions", "list", "--db", db_file, "--user", "alice", "--json"])

    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert [item["session_id"] for item in body["data"]] == ["alice-1"]
    assert body["data"][0]["session_name"] == "hello"
    assert body["meta"]["total_count"] == 1


def test_list_with_a_bad_type_fails_cleanly(db_file: str) -> None:
    result = runner.invoke(app, ["sessions", "list", "--db", db_file, "--type", "robot"])

    assert result.exit_code == 1
    assert "session_type" in result.output


def test_show_prints_session_and_runs(db_file: str) -> None:
    table = runner.invoke(app, ["sessions", "show", "alice-1", "--db", db_file])
    as_json = runner.invoke(app, ["sessions", "show", "alice-1", "--db", db_file, "--json"])

    assert table.exit_code == 0, table.output
    assert "r1" in table.output and "COMPLETED" in table.output
    body = json.loads(as_json.output)
    assert body["session"]["user_id"] == "alice"
    assert [m["content"] for m in body["session"]["chat_history"]] == ["hello", "hi there"]
    assert body["runs"][0]["run_id"] == "r1"


def test_show_of_a_missing_session_exits_1(db_file: str) -> None:
    result = runner.invoke(app, ["sessions", "show", "nope", "--db", db_file])

    assert result.exit_code == 1
    assert "not found" in result.output


def test_delete_asks_first_and_respects_no(db_file: str) -> None:
    refused = runner.invoke(app, ["sessions", "delete", "alice-1", "--db", db_file], input="n\n")
    confirmed = runner.invoke(
        app, ["sessions", "delete", "alice-1", "nope", "--db", db_file, "--yes", "--json"]
    )
    listed = runner.invoke(app, ["sessions", "list", "--db", db_file, "--json"])

    assert refused.exit_code == 1  # aborted
    assert confirmed.exit_code == 1  # "nope" is missing
    assert json.loads(confirmed.stdout) == {"deleted": 1, "not_found": ["nope"]}
    assert [item["session_id"] for item in json.loads(listed.output)["data"]] == ["bob-1"]


def test_unsupported_url_exits_2() -> None:
    result = runner.invoke(app, ["sessions", "list", "--db", "mysql://x/y"])

    assert result.exit_code == 2
    assert "unsupported database URL" in result.output


# -- serve -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("main=sqlite:///x.db", ("main", "sqlite:///x.db")),
        ("postgresql://u@h/db?sslmode=require", (None, "postgresql://u@h/db?sslmode=require")),
        ("pg=postgresql://u@h/db?sslmode=require", ("pg", "postgresql://u@h/db?sslmode=require")),
        ("./local.db", (None, "./local.db")),
    ],
)
def test_split_db_arg(value: str, expected: tuple[str | None, str]) -> None:
    assert split_db_arg(value) == expected


def test_store_from_url_picks_the_backend(tmp_path: Path) -> None:
    memory = store_from_url("memory", db_id="m")
    by_path = store_from_url(str(tmp_path / "a.db"))
    by_url = store_from_url(f"sqlite:///{tmp_path / 'b.db'}", db_id="s")
    postgres = store_from_url("postgres://user@localhost/db?schema=custom", db_id="p")

    assert isinstance(memory, InMemoryDb) and memory.id == "m"
    assert isinstance(by_path, SqliteDb) and by_path.id == "sqlite"
    assert isinstance(by_url, SqliteDb) and by_url.id == "s"
    assert isinstance(postgres, PostgresDb) and postgres.id == "p"
    for store in (by_path, by_url, postgres):
        store.close()


def test_settings_precedence_flags_over_file_over_defaults(tmp_path: Path) -> None:
    config = tmp_path / "sessiondb.toml"
    config.write_text('host = "0.0.0.0"\nport = 8000\ndb = "from-file.db"\njwt_audience = "aud"\n')

    defaults = resolve_settings({}, None)
    merged = resolve_settings({"port": 9000, "host": None, "db": []}, config)

    assert (defaults.host, defaults.port, list(defaults.db)) == ("127.0.0.1", 7777, ["sessiondb.db"])
    assert (merged.host, merged.port, list(merged.db), merged.jwt_audience) == (
        "0.0.0.0",
        9000,
        ["from-file.db"],
        "aud",
    )


def test_config_file_with_an_unknown_setting_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("prot = 1\n")

    with pytest.raises(ValueError, match="unknown setting"):
        resolve_settings({}, config)


def test_auth_settings(tmp_path: Path) -> None:
    pem = tmp_path / "key.pem"
    pem.write_text("PUBLIC KEY")

    assert ServeSettings().auth() == AuthConfig()
    hs = ServeSettings(jwt_secret="s", jwt_audience="a").auth()
    rs = ServeSettings(jwt_public_key_file=str(pem)).auth()

    assert hs.jwt is not None and tuple(hs.jwt.algorithms) == ("HS256",) and hs.jwt.audience == "a"
    assert rs.jwt is not None and rs.jwt.key == "PUBLIC KEY" and tuple(rs.jwt.algorithms) == ("RS256",)
    with pytest.raises(ValueError, match="not both"):
        ServeSettings(jwt_secret="s", jwt_public_key_file=str(pem)).auth()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Stands in for uvicorn.run: records what serve would have served, without a server."""
    calls: dict[str, Any] = {}

    def fake_run(api: Any, **kwargs: Any) -> None:
        calls.update(kwargs, app=api)

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", fake_run)  # several workers
    monkeypatch.setattr(
        "sessiondb.cli.serve._run_one_process", lambda api, _pending, **kwargs: fake_run(api, **kwargs)
    )
    # No server listens, so whether the port is free on this machine does not matter.
    monkeypatch.setattr("sessiondb.cli.serve._check_port", lambda host, port: None)
    return calls


def test_serve_builds_the_app_from_flags_env_and_file(
    tmp_path: Path, served: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "sessiondb.toml"
    config.write_text('host = "0.0.0.0"\nport = 8000\n')
    monkeypatch.setenv("SESSIONDB_PORT", "8123")
    monkeypatch.delenv("SESSIONDB_SECURITY_KEY", raising=False)
    monkeypatch.delenv("OS_SECURITY_KEY", raising=False)

    with caplog.at_level(logging.WARNING):
        result = runner.invoke(
            app,
            # --insecure: 0.0.0.0 with auth off is refused without it (tests/security/test_exposure.py).
            [
                "serve",
                "--config",
                str(config),
                "--db",
                "one=memory",
                "--db",
                f"two={tmp_path / 'x.db'}",
                "--insecure",
            ],
        )

    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"]) == ("0.0.0.0", 8123)
    assert served["app"].state.registry.ids() == ["one", "two"]
    assert "AUTH IS OFF" in caplog.text


def test_serve_with_a_key_from_the_agno_variable(
    served: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OS_SECURITY_KEY", "k")

    result = runner.invoke(app, ["serve", "--db", "memory"])

    assert result.exit_code == 0, result.output
    assert served["app"].state.auth == AuthConfig(security_key="k")
    assert (served["host"], served["port"]) == ("127.0.0.1", 7777)


def test_serve_with_a_bad_url_exits_2(served: dict[str, Any]) -> None:
    result = runner.invoke(app, ["serve", "--db", "mysql://x/y"])

    assert result.exit_code == 2
    assert "app" not in served


@pytest.mark.postgres
def test_postgres_url_schema_parameter_is_used() -> None:
    import sqlalchemy

    from store_backends import PG_URL, postgres_schema

    with postgres_schema("cli") as schema:
        store = store_from_url(f"{PG_URL}?schema={schema}")
        try:
            store.migrate()
        finally:
            store.close()
        engine = sqlalchemy.create_engine(PG_URL)
        with engine.connect() as conn:
            tables = set(sqlalchemy.inspect(conn).get_table_names(schema=schema))
        engine.dispose()

    assert "sessiondb_sessions" in tables


def test_serve_with_workers_hands_the_settings_to_uvicorn_workers(
    tmp_path: Path, served: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sessiondb.api.served import SETTINGS_VARIABLE, WORKER_APP

    monkeypatch.setenv(SETTINGS_VARIABLE, "")  # restored (removed) after the test
    db = f"main={tmp_path / 'w.db'}"

    result = runner.invoke(app, ["serve", "--workers", "2", "--db", db, "--security-key", "k"])

    assert result.exit_code == 0, result.output
    assert (served["app"], served["factory"], served["workers"]) == (WORKER_APP, True, 2)
    exported = json.loads(os.environ[SETTINGS_VARIABLE])
    assert exported["settings"]["db"] == [db] and exported["settings"]["security_key"] == "k"


def test_serve_with_workers_over_memory_exits_2(served: dict[str, Any]) -> None:
    result = runner.invoke(app, ["serve", "--workers", "2", "--db", "memory"])

    assert result.exit_code == 2
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "['memory'] is in memory" in said and "use --workers 1" in said
    assert "app" not in served


def test_serve_with_zero_workers_in_the_config_file_exits_2(tmp_path: Path, served: dict[str, Any]) -> None:
    config = tmp_path / "sessiondb.toml"
    config.write_text("workers = 0\n")

    result = runner.invoke(app, ["serve", "--config", str(config), "--db", "memory"])

    assert result.exit_code == 2
    assert "workers (--workers) must be a whole number, at least 1, not 0" in " ".join(result.output.split())
    assert "app" not in served


def _cors_origins(served_app: Any) -> list[str]:
    from starlette.middleware.cors import CORSMiddleware

    [cors] = [m for m in served_app.user_middleware if m.cls is CORSMiddleware]
    origins: list[str] = cors.kwargs["allow_origins"]
    return origins


def test_serve_takes_cors_origins_from_flags_environment_and_config_file(
    tmp_path: Path, served: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "serve.toml"
    config.write_text('cors_origins = ["https://from-file.example"]\n')
    monkeypatch.delenv("SESSIONDB_CORS_ORIGINS", raising=False)
    seen = []
    for args, env in [
        ([], None),
        (["--config", str(config)], None),
        (
            [
                "--config",
                str(config),
                "--cors-origin",
                "https://a.example",
                "--cors-origin",
                "https://b.example",
            ],
            None,
        ),
        ([], "https://e1.example https://e2.example"),
    ]:
        if env is not None:
            monkeypatch.setenv("SESSIONDB_CORS_ORIGINS", env)
        result = runner.invoke(app, ["serve", "--db", "memory", *args])
        assert result.exit_code == 0, result.output
        seen.append(_cors_origins(served["app"]))

    assert seen == [
        ["http://localhost:3000", "http://127.0.0.1:3000"],
        ["https://from-file.example"],
        ["https://a.example", "https://b.example"],
        ["https://e1.example", "https://e2.example"],
    ]
