"""The hot reads' cache (``sessiondb.api.read_cache``): exact, per caller, behind the auth.

A kept answer is served only while the database's data version is the one it was read at, so
a write through the API, through a store in this process (the app's or another object on the
same database) or through another process is seen by the very next ``GET``, on SQLite and
PostgreSQL. Callers never share answers, and a kept answer is no way around the auth. That a
kept answer is the plain route's, byte for byte, is in ``test_fast_reads.py``.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jwt_support import AUDIENCE, SECRET, headers_of

from sessiondb.api import AuthConfig, JwtConfig, create_app
from sessiondb.api.read_cache import Cached, ReadCache
from sessiondb.db._sql import SqlStore
from sessiondb.db.memory import InMemoryDb
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.sqlite import SqliteDb
from sessiondb.run import RunOutput
from sessiondb.session import AgentSession
from store_backends import SqlTarget

PATHS = ("/sessions?user_id=u1", "/sessions/s1", "/sessions/s1/runs")


def _seed(store: SqlStore) -> None:
    store.upsert_session(
        AgentSession(
            session_id="s1",
            user_id="u1",
            agent_id="a1",
            session_data={"session_name": "before"},
            runs=[RunOutput(run_id="r1", content="one")],
        )
    )


@pytest.fixture
def served(sql_target: SqlTarget) -> Iterator[tuple[SqlTarget, SqlStore, FastAPI, TestClient]]:
    """The API over a seeded store on each SQL backend, and a client."""
    store = sql_target.open()
    store.migrate()
    _seed(store)
    app = create_app(dbs=[store])
    try:
        with TestClient(app) as client:
            yield sql_target, store, app, client
    finally:
        store.close()


def _cache(app: FastAPI) -> ReadCache:
    cache: ReadCache = app.state.read_cache
    return cache


def _get_hit(app: FastAPI, client: TestClient, path: str, **headers: str) -> httpx.Response:
    """Ask ``path`` until the answer comes from the cache (PostgreSQL's version is the server's:
    another database's write in between makes the next request a miss)."""
    for _attempt in range(50):
        hits = _cache(app).hits
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        if _cache(app).hits > hits:
            return response
    raise AssertionError(f"{path} was never answered from the cache")


def _warm(app: FastAPI, client: TestClient) -> None:
    for path in PATHS:
        _get_hit(app, client, path)


def _assert_written(client: TestClient) -> None:
    listing = client.get(PATHS[0]).json()
    assert [item["session_name"] for item in listing["data"]] == ["after"]
    assert client.get(PATHS[1]).json()["session_name"] == "after"
    assert [run["run_id"] for run in client.get(PATHS[2]).json()] == ["r1", "r2"]


def _write_with(store: SqlStore) -> None:
    store.update_session("s1", session_name="after")
    store.upsert_run("s1", RunOutput(run_id="r2", content="two"))


def test_a_write_through_the_app_store_is_seen_at_once(
    served: tuple[SqlTarget, SqlStore, FastAPI, TestClient],
) -> None:
    _, store, app, client = served
    _warm(app, client)

    _write_with(store)

    _assert_written(client)


def test_a_write_through_another_store_object_is_seen_at_once(
    served: tuple[SqlTarget, SqlStore, FastAPI, TestClient],
) -> None:
    target, _, app, client = served
    _warm(app, client)
    other = target.open()
    try:
        _write_with(other)
    finally:
        other.close()

    _assert_written(client)


_WRITER = textwrap.dedent(
    """
    import sys
    from sessiondb.db.postgres import PostgresDb
    from sessiondb.db.sqlite import SqliteDb
    from sessiondb.run import RunOutput

    kind, location, schema = sys.argv[1:4]
    if kind == "sqlite":
        store = SqliteDb(db_file=location, id="test")
    else:
        store = PostgresDb(db_url=location, db_schema=schema, id="test")
    store.update_session("s1", session_name="after")
    store.upsert_run("s1", RunOutput(run_id="r2", content="two"))
    store.close()
    """
)


def test_a_write_by_another_process_is_seen_at_once(
    served: tuple[SqlTarget, SqlStore, FastAPI, TestClient],
) -> None:
    target, _, app, client = served
    _warm(app, client)

    subprocess.run(
        [sys.executable, "-c", _WRITER, target.kind, target.location, target.schema or ""],
        check=True,
        timeout=120,
    )

    _assert_written(client)


def test_a_write_through_the_api_is_seen_at_once(
    served: tuple[SqlTarget, SqlStore, FastAPI, TestClient],
) -> None:
    _, _, app, client = served
    _warm(app, client)

    assert client.patch("/sessions/s1", json={"session_name": "renamed"}).status_code == 200
    assert client.get(PATHS[0]).json()["data"][0]["session_name"] == "renamed"
    assert client.get(PATHS[1]).json()["session_name"] == "renamed"
    _get_hit(app, client, PATHS[2])
    assert client.delete("/sessions/s1").status_code == 204

    assert client.get(PATHS[0]).json()["data"] == []
    assert client.get(PATHS[1]).status_code == 404
    assert client.get(PATHS[2]).status_code == 404


def test_an_unchanged_database_is_not_read_again(
    served: tuple[SqlTarget, SqlStore, FastAPI, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, store, app, client = served
    _warm(app, client)

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the database was read")

    for name in ("aget_session_rows", "aget_run_dicts", "aget_session", "aget_sessions", "aget_runs"):
        monkeypatch.setattr(store, name, broken)
    if isinstance(store, SqliteDb):  # PostgreSQL's version moves with any database's write
        for path in PATHS:
            assert client.get(path).status_code == 200


def test_a_kept_listing_reports_the_time_of_its_version_check(
    served: tuple[SqlTarget, SqlStore, FastAPI, TestClient],
) -> None:
    _, _, app, client = served
    first = client.get(PATHS[0]).json()

    kept = _get_hit(app, client, PATHS[0]).json()

    assert isinstance(kept["meta"].pop("search_time_ms"), float)
    first["meta"].pop("search_time_ms")
    assert kept == first


def test_the_cache_can_be_turned_off(sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _seed(sql_store)
    app = create_app(dbs=[sql_store], read_cache=False)
    reads: list[object] = []
    original = sql_store.aget_session_rows

    async def counted(*args: object, **kwargs: object) -> object:
        reads.append(args)
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sql_store, "aget_session_rows", counted)
    with TestClient(app) as client:
        for _ in range(3):
            assert client.get(PATHS[0]).json()["meta"]["total_count"] == 1

    assert app.state.read_cache is None
    assert len(reads) == 3


def test_a_store_that_cannot_tell_its_version_is_not_cached() -> None:
    store = InMemoryDb(id="main")
    _seed(store)  # type: ignore[arg-type]
    app = create_app(dbs=[store])
    with TestClient(app) as client:
        for path in PATHS:
            assert client.get(path).status_code == 200
            assert client.get(path).status_code == 200

    assert len(_cache(app)) == 0


# -- who asks --------------------------------------------------------------------------------


@pytest.fixture
def jwt_served(sql_store: SqlStore) -> Iterator[tuple[FastAPI, TestClient]]:
    """The API with JWT auth over a store holding one session of u1's and one of u2's."""
    _seed(sql_store)
    sql_store.upsert_session(
        AgentSession(session_id="s2", user_id="u2", agent_id="a1", session_data={"session_name": "two"})
    )
    app = create_app(dbs=[sql_store], auth=AuthConfig(jwt=JwtConfig(key=SECRET, audience=AUDIENCE)))
    with TestClient(app) as client:
        yield app, client


def _ids(response: httpx.Response) -> list[str]:
    return [item["session_id"] for item in response.json()["data"]]


def test_callers_never_share_a_kept_answer(jwt_served: tuple[FastAPI, TestClient]) -> None:
    app, client = jwt_served
    u1, u2 = headers_of("u1"), headers_of("u2")
    admin = headers_of("root", ["sessions:admin"])

    assert _ids(_get_hit(app, client, "/sessions", **u1)) == ["s1"]
    _get_hit(app, client, "/sessions/s1", **u1)
    _get_hit(app, client, "/sessions/s1/runs", **u1)
    assert _ids(_get_hit(app, client, "/sessions?user_id=u1", **admin)) == ["s1"]

    # The same paths, asked by another user: never u1's answers.
    assert _ids(client.get("/sessions", headers=u2)) == ["s2"]
    assert _ids(client.get("/sessions?user_id=u1", headers=u2)) == ["s2"]
    assert client.get("/sessions/s1", headers=u2).status_code == 404
    assert client.get("/sessions/s1/runs", headers=u2).status_code == 404
    assert sorted(_ids(client.get("/sessions", headers=admin))) == ["s1", "s2"]


@pytest.mark.parametrize("path", PATHS)
def test_a_kept_answer_still_needs_the_auth(jwt_served: tuple[FastAPI, TestClient], path: str) -> None:
    app, client = jwt_served
    _get_hit(app, client, path, **headers_of("u1"))

    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert client.get(path, headers=headers_of("u1", ["sessions:write"])).status_code == 403


# -- the cache itself ------------------------------------------------------------------------


def _entry(store: object, version: int, size: int) -> Cached:
    return Cached(store, version, b"x" * size)


def test_an_entry_is_served_only_at_its_version_and_from_its_store() -> None:
    cache, store = ReadCache(), object()
    cache.put("k", _entry(store, 1, 10))

    assert cache.get("k", object(), 1) is None  # another store: dropped
    cache.put("k", _entry(store, 1, 10))
    assert cache.get("k", store, 1) is not None
    assert cache.get("k", store, 2) is None  # another version: dropped
    assert cache.get("k", store, 1) is None
    assert (cache.hits, cache.misses, len(cache), cache.size_bytes) == (1, 3, 0, 0)


def test_the_least_recently_used_entries_go_first() -> None:
    cache, store = ReadCache(max_entries=2), object()
    cache.put("a", _entry(store, 1, 1))
    cache.put("b", _entry(store, 1, 1))
    assert cache.get("a", store, 1) is not None

    cache.put("c", _entry(store, 1, 1))

    assert [cache.get(key, store, 1) is not None for key in "abc"] == [True, False, True]


def test_the_bytes_kept_are_bounded() -> None:
    cache, store = ReadCache(max_bytes=800), object()
    for key in range(10):
        cache.put(key, _entry(store, 1, 100))
    cache.put("big", _entry(store, 1, 101))  # over an eighth of the budget: not kept

    assert cache.size_bytes == 800
    assert len(cache) == 8
    assert cache.get("big", store, 1) is None
    assert cache.get(0, store, 1) is None
    assert cache.get(9, store, 1) is not None


@pytest.mark.parametrize("bounds", [(0, 1), (1, 0)])
def test_an_empty_cache_is_refused(bounds: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="at least one"):
        ReadCache(*bounds)


def test_postgres_with_read_replicas_gives_no_version(sql_target: SqlTarget) -> None:
    if sql_target.kind != "postgres":
        pytest.skip("read replicas are PostgreSQL's")
    store = PostgresDb(
        db_url=sql_target.location, db_schema=sql_target.schema, read_replica_urls=[sql_target.location]
    )
    try:
        store.migrate()
        assert asyncio.run(store.aread_version()) is None
    finally:
        store.close()


@pytest.mark.parametrize(
    ("given", "config_text", "cached"),
    [
        ({}, None, True),
        ({"read_cache": False}, None, False),
        ({}, "read_cache = false\n", False),
        ({"read_cache": True}, "read_cache = false\n", True),
    ],
)
def test_serve_settings_turn_the_read_cache_off_and_on(
    tmp_path: Path, given: dict[str, Any], config_text: str | None, cached: bool
) -> None:
    from sessiondb.api.serve import resolve_settings
    from sessiondb.api.served import build_served_app

    config = None
    if config_text is not None:
        config = tmp_path / "serve.toml"
        config.write_text(config_text)
    settings = resolve_settings({"db": [str(tmp_path / "cache.db")], **given}, config)
    served = build_served_app(settings, None)
    try:
        assert (served.app.state.read_cache is not None) is cached
    finally:
        served.close()
