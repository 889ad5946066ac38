"""Secrets never reach a log line or an error body: not the security key, not the JWT secret,
not a database password, and not a caller's own (wrong) token.

The logs are captured at DEBUG from every logger, in process and from a live ``sessiondb serve``,
while the server is sent bad tokens and serves databases it cannot reach.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import jwt
import pytest
from api_support import asgi_client
from typer.testing import CliRunner

from live_server import live_server
from sessiondb.api import AuthConfig, JwtConfig, create_app
from sessiondb.cli import app as cli
from sessiondb.db.postgres import PostgresDb

SECURITY_KEY = "sk-KEY-7f3a9c-never-log-me"
JWT_SECRET = "JWT-SECRET-4b8e1d-never-log-me-long-enough"
DB_PASSWORD = "DB-PASSWORD-9c2f7a"
SECRETS = (SECURITY_KEY, JWT_SECRET, DB_PASSWORD)

UNREACHABLE_PG = f"postgresql+psycopg://admin:{DB_PASSWORD}@127.0.0.1:1/prod?connect_timeout=2"


def _bad_tokens() -> dict[str, str]:
    now = int(time.time())
    return {
        "garbage": "not-a-jwt",
        "almost-the-key": SECURITY_KEY[:-1],
        "key-with-suffix": SECURITY_KEY + "x",
        "wrong-signature": jwt.encode(
            {"sub": "eve", "exp": now + 60}, "another-secret-long-enough-for-hs256"
        ),
        "expired": jwt.encode({"sub": "eve", "exp": now - 60}, JWT_SECRET),
        "none-algorithm": jwt.encode({"sub": "eve"}, key="", algorithm="none"),
        "no-subject": jwt.encode({"exp": now + 60, "scopes": ["sessions:read"]}, JWT_SECRET),
    }


def _assert_clean(text: str, *also: str) -> None:
    for secret in (*SECRETS, *also):
        assert secret not in text, f"{secret!r} leaked"


async def test_bad_tokens_and_an_unreachable_database_leak_nothing(caplog: pytest.LogCaptureFixture) -> None:
    down = PostgresDb(db_url=UNREACHABLE_PG, id="prod")
    auth = AuthConfig(security_key=SECURITY_KEY, jwt=JwtConfig(key=JWT_SECRET))
    seen: list[str] = []
    with caplog.at_level(logging.DEBUG):
        async for client in asgi_client(create_app(dbs=[down], auth=auth)):
            for name, token in _bad_tokens().items():
                response = await client.get("/sessions", headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 401, name
                seen.append(f"{response.headers}{response.text}")
                _assert_clean(seen[-1], token)
            good = {"Authorization": f"Bearer {SECURITY_KEY}"}
            for method, path in [
                ("GET", "/sessions"),
                ("GET", "/sessions/s1"),
                ("POST", "/sessions"),
                ("GET", "/health"),
            ]:
                response = await client.request(
                    method, path, headers=good, json={} if method == "POST" else None
                )
                assert response.status_code == 503, (path, response.text)
                seen.append(f"{response.headers}{response.text}")
            config = await client.get("/config", headers=good)
            seen.append(config.text)
    down.close()

    assert "Database unavailable" in "".join(seen)  # the errors did say what went wrong
    _assert_clean("".join(seen))
    _assert_clean(caplog.text, *_bad_tokens().values())


def test_the_live_server_log_holds_no_secret(tmp_path: Path) -> None:
    args = [
        "--db",
        f"prod={UNREACHABLE_PG}",
        "--db",
        f"local={tmp_path / 'local.db'}",
        "--security-key",
        SECURITY_KEY,
        "--log-level",
        "debug",
    ]
    env = {"SESSIONDB_JWT_SECRET": JWT_SECRET}
    tokens = _bad_tokens()
    with (
        live_server(args, env=env, log_path=tmp_path / "serve.log") as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        for token in tokens.values():
            assert (
                client.get(
                    "/sessions", params={"db_id": "local"}, headers={"Authorization": f"Bearer {token}"}
                ).status_code
                == 401
            )
        good = {"Authorization": f"Bearer {SECURITY_KEY}"}
        failing = client.get("/sessions", params={"db_id": "prod"}, headers=good)
        health = client.get("/health")
        client.post("/sessions", params={"db_id": "prod"}, json={}, headers=good)
        log = server.output()

    assert failing.status_code == 503 and health.status_code == 503
    _assert_clean(failing.text + health.text)
    assert "GET /sessions" in log  # the log is real: requests were logged
    _assert_clean(log, *tokens.values())


@pytest.mark.parametrize(
    "args",
    [
        ["migrate", "--db", UNREACHABLE_PG],
        ["sessions", "list", "--db", UNREACHABLE_PG],
        ["sessions", "show", "s1", "--db", UNREACHABLE_PG],
        ["serve", "--db", f"mysql://admin:{DB_PASSWORD}@db/prod"],
        ["serve", "--db", f"://admin:{DB_PASSWORD}@db/prod"],
        ["serve", "--db", f"postgresql://admin:{DB_PASSWORD}@db:notaport/prod"],
        ["serve", "--db", "memory", "--jwt-secret", JWT_SECRET, "--jwt-public-key", "/nonexistent.pem"],
    ],
    ids=["migrate", "list", "show", "unsupported-url", "unparsable-url", "bad-port", "conflicting-jwt"],
)
def test_cli_errors_name_the_problem_without_the_secret(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *_, **__: pytest.fail("must not serve"))
    monkeypatch.setattr(
        "sessiondb.cli.serve._run_one_process", lambda *_, **__: pytest.fail("must not serve")
    )

    result = CliRunner().invoke(cli, args)

    assert result.exit_code in (1, 2), result.output
    assert "error" in result.output.lower()
    assert "Traceback" not in result.output
    _assert_clean(result.output)
