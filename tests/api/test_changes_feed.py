"""``GET /changes`` over real servers: resuming across processes misses nothing, other servers'
writes arrive within a second, JWT callers see their own sessions only, shutdown ends streams."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from feed_client import open_feed

from live_server import LiveServer, live_server
from store_backends import PG_URL, SqlTarget, sql_target_for


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh database of each SQL backend, migrated, as ``serve --db`` takes it."""
    with sql_target_for(request.param, tmp_path) as target:
        store = target.open()
        store.migrate()
        store.close()
        yield _url(target)


def _url(target: SqlTarget) -> str:
    if target.kind == "sqlite":
        return target.location
    return f"{PG_URL}?schema={target.schema}"


def _create(server: LiveServer, session_id: str, headers: dict[str, str] | None = None) -> None:
    response = httpx.post(f"{server.base_url}/sessions", json={"session_id": session_id}, headers=headers)
    assert response.status_code == 201, response.text


def test_a_client_that_disconnects_and_resumes_on_another_server_misses_nothing(
    db_url: str, tmp_path: Path
) -> None:
    with (
        live_server(["--db", db_url], log_path=tmp_path / "a.log") as first,
        live_server(["--db", db_url], log_path=tmp_path / "b.log") as second,
    ):
        with open_feed(first.base_url) as feed:  # from now on
            _create(second, "s1")
            written = time.monotonic()
            created = feed.next()
            # Written through the other process, seen within a second.
            assert time.monotonic() - written < 1.0
            assert (created.event, created.data["session_id"], created.data["session_type"]) == (
                "session.created",
                "s1",
                "agent",
            )
            assert created.data["version"] == 1 and created.data["db_id"]
        # Disconnected: these happen while nobody listens.
        rename = httpx.post(f"{second.base_url}/sessions/s1/rename", json={"session_name": "renamed"})
        assert rename.status_code == 200
        _create(first, "s2")
        assert httpx.delete(f"{first.base_url}/sessions/s1").status_code == 204
        with open_feed(second.base_url, headers={"Last-Event-ID": str(created.id)}) as feed:
            missed = feed.take(3)
        assert [(e.event, e.data["session_id"]) for e in missed] == [
            ("session.updated", "s1"),
            ("session.created", "s2"),
            ("session.deleted", "s1"),
        ]
        ids = [created.id, *(event.id for event in missed)]
        assert ids == sorted(set(ids))
        # ?after= resumes the same way (Last-Event-ID would win over it).
        with open_feed(first.base_url, params={"after": missed[0].id}) as feed:
            assert [event.id for event in feed.take(2)] == ids[2:]


SECRET = "feed-test-secret-with-enough-bytes-for-hs256"


def _token(sub: str) -> dict[str, str]:
    claims = {"sub": sub, "exp": int(time.time()) + 300, "scopes": ["sessions:read", "sessions:write"]}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


def test_a_jwt_caller_sees_only_its_own_sessions_changes(tmp_path: Path) -> None:
    args = ["--db", str(tmp_path / "jwt.db"), "--jwt-secret", SECRET]
    with live_server(args, log_path=tmp_path / "jwt.log") as server:
        alice, bob = _token("alice"), _token("bob")
        with open_feed(server.base_url, headers=alice, params={"after": 0}) as feed:
            _create(server, "bobs", headers=bob)
            _create(server, "alices", headers=alice)
            seen = feed.next()
        assert (seen.event, seen.data["session_id"], seen.data["user_id"]) == (
            "session.created",
            "alices",
            "alice",
        )
        # Asking for another user's changes is not honoured for a non-admin caller.
        with open_feed(server.base_url, headers=alice, params={"after": 0, "user_id": "bob"}) as feed:
            assert feed.next().data["session_id"] == "alices"
        assert httpx.get(f"{server.base_url}/changes").status_code == 401


def test_the_stream_ends_cleanly_when_the_server_shuts_down(tmp_path: Path) -> None:
    # At debug level: at info, serve leaves uvicorn's start and stop lines out (the banner says it).
    args = ["--db", str(tmp_path / "stop.db"), "--log-level", "debug"]
    with live_server(args, log_path=tmp_path / "stop.log") as server:
        with open_feed(server.base_url, read_s=10) as feed:
            _create(server, "s1")
            assert feed.next().event == "session.created"
            stopping = time.monotonic()
            server.process.terminate()
            assert feed.rest() == []  # no error: the response simply ends
        server.process.wait(timeout=10)
        assert time.monotonic() - stopping < 5
        # A graceful shutdown to the end (uvicorn then re-raises the SIGTERM it caught).
        assert "Application shutdown complete" in server.output()
