"""A SQLite file deleted, replaced or damaged under a running store: 503 naming the file, never more.

What a client must see: every call (``/health`` included) answers 503 with a message saying
what is wrong with which file; no write is acknowledged into a file that is no longer the
database; nothing stored is damaged further. Never a 500.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from api_seed import agent_run, seed_agent_session
from api_support import asgi_client

from sessiondb.api import create_app
from sessiondb.db.errors import SchemaNotReady
from sessiondb.db.sqlite import SqliteDb


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    """A SQLite file holding sessions ``s0``..``s4``, each with runs."""
    path = tmp_path / "data" / "faults.db"
    store = SqliteDb(db_file=path, id="main")
    for n in range(5):
        seed_agent_session(
            store, f"s{n}", runs=[agent_run(f"r{n}-{k}", f"question {k} " + "x" * 3_000) for k in range(3)]
        )
    store.close()
    return path


async def _client(store: SqliteDb) -> AsyncIterator[httpx.AsyncClient]:
    async for client in asgi_client(create_app(dbs=[store])):
        yield client


def _exists(path: Path) -> bool:
    return path.exists()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _all_unavailable(responses: list[httpx.Response], says: str, path: Path) -> None:
    for response in responses:
        assert response.status_code == 503, (response.request.url, response.text)
        assert response.headers["Retry-After"]
        detail = response.json().get("detail") or str(response.json()["databases"])
        assert says in detail and str(path) in detail, detail


async def _every_call(client: httpx.AsyncClient) -> list[httpx.Response]:
    return [
        await client.post("/sessions", json={"session_id": "new"}),
        await client.patch("/sessions/s1", json={"session_state": {"x": 1}}),
        await client.get("/sessions/s1"),
        await client.get("/sessions"),
        await client.get("/sessions/s1/runs"),
        await client.request("DELETE", "/sessions", json={"session_ids": ["s2"], "session_types": ["agent"]}),
    ]


@pytest.mark.parametrize("with_wal", [False, True])
async def test_a_deleted_file_is_503_naming_it_and_no_write_is_acknowledged(
    db_file: Path, with_wal: bool
) -> None:
    store = SqliteDb(db_file=db_file, id="main")
    async for client in _client(store):
        assert (await client.post("/sessions", json={"session_id": "before"})).status_code == 201
        assert (await client.get("/sessions/s1")).status_code == 200  # connections now open the file
        for path in [db_file, *([db_file.with_name(db_file.name + "-wal")] if with_wal else [])]:
            path.unlink()
        creates = [await client.post("/sessions", json={"session_id": f"after-{n}"}) for n in range(10)]
        others = await _every_call(client)
        health = await client.get("/health")

        _all_unavailable([*creates, *others], "is missing", db_file)
        assert health.status_code == 503
        _all_unavailable([health], "is missing", db_file)
        assert not _exists(db_file)  # no empty database was made in its place
    store.close()


async def test_a_write_in_flight_when_the_file_goes_is_rolled_back_not_acknowledged(db_file: Path) -> None:
    store = SqliteDb(db_file=db_file, id="main")
    store.get_session("s0")  # the file is known
    original = store._check_file
    calls = 0

    def delete_between_check_and_commit() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the check before the commit: the file vanished mid-transaction
            db_file.unlink()
        original()

    store._check_file = delete_between_check_and_commit  # type: ignore[method-assign]
    async for client in _client(store):
        response = await client.post("/sessions", json={"session_id": "in-flight"})
        _all_unavailable([response], "is missing", db_file)
    store.close()


async def test_a_replaced_file_is_503_and_the_old_one_is_left_alone(db_file: Path, tmp_path: Path) -> None:
    store = SqliteDb(db_file=db_file, id="main")
    async for client in _client(store):
        assert (await client.get("/sessions/s1")).status_code == 200
        moved = tmp_path / "moved.db"
        shutil.copy(db_file, moved)
        os.replace(moved, db_file)  # same content, another file (a restore from backup, say)
        before = _digest(db_file)
        responses = [*await _every_call(client), await client.get("/health")]
        _all_unavailable(responses, "was replaced", db_file)
    store.close()
    assert _digest(db_file) == before


async def test_a_garbage_header_is_503_naming_the_file_and_the_file_is_untouched(db_file: Path) -> None:
    with db_file.open("r+b") as f:
        f.write(b"this is not a sqlite database at all, " * 3)
    before = _digest(db_file)
    store = SqliteDb(db_file=db_file, id="main")
    async for client in _client(store):
        responses = [await client.get("/health"), *await _every_call(client), await client.get("/health")]
        _all_unavailable(responses, "damaged", db_file.parent)
        assert "file is not a database" in responses[0].text
    store.close()
    assert _digest(db_file) == before


async def test_damaged_pages_make_the_store_refuse_every_call_and_damage_nothing_more(db_file: Path) -> None:
    with sqlite3.connect(db_file) as conn:
        page_size, pages = (
            conn.execute("PRAGMA page_size").fetchone()[0],
            conn.execute("PRAGMA page_count").fetchone()[0],
        )
    with db_file.open("r+b") as f:  # every page but the first (the schema): garbage
        for page in range(1, pages):
            f.seek(page * page_size)
            f.write(bytes([0x5A]) * page_size)
    before = _digest(db_file)
    store = SqliteDb(db_file=db_file, id="main")
    async for client in _client(store):
        reads = [await client.get(f"/sessions/s{n}") for n in range(5)]
        assert {r.status_code for r in reads} == {503}, [r.text for r in reads]
        after = [*await _every_call(client), await client.get("/health")]
        _all_unavailable([*reads, *after], "damaged", db_file.parent)
        assert "refuses every call" in after[0].text
    store.close()
    assert _digest(db_file) == before


def test_tables_dropped_under_an_auto_migrating_store_are_not_blamed_on_a_missing_migrate(
    db_file: Path,
) -> None:
    store = SqliteDb(db_file=db_file, id="main")  # auto_migrate on
    store.get_session("s0")
    with sqlite3.connect(db_file) as conn:
        conn.execute("DROP TABLE sessiondb_sessions_runs")
        conn.execute("DROP TABLE sessiondb_sessions")
    with pytest.raises(SchemaNotReady, match="dropped or the database was replaced") as raised:
        store.get_session("s0")
    assert "run `migrate()`" not in str(raised.value)
    store.close()
    manual = SqliteDb(db_file=db_file, id="main", auto_migrate=False)
    with pytest.raises(SchemaNotReady, match="migrate"):
        manual.get_session("s0")
    manual.close()
