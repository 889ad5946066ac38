"""A full disk and a read-only SQLite file: a clear error (503 over HTTP), never a corrupt database.

How each fault is made, without root-only tricks (no mounts):

- **Disk full, in process:** SQLite's ``max_page_count`` pragma caps the file a few pages
  above its current size, so SQLite itself answers ``SQLITE_FULL`` ("database or disk is
  full"), exactly the error a full disk gives it.
- **Disk full, live server:** the kernel refuses to grow any file of the server process past
  its ``RLIMIT_FSIZE`` (set on the running server with ``prlimit``); SQLite sees the failed
  ``write()`` as an I/O error mid-transaction. Lifting the limit must bring writes back
  without a restart.
- **Read-only file:** SQLite opens the file read-only (``mode=ro``), which binds every user;
  and, when the tests do not run as root (permission bits do not bind root), the file, or
  its directory, is made read-only with ``chmod``.
"""

from __future__ import annotations

import os
import resource
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_seed import agent_run, seed_agent_session
from api_support import asgi_client
from sqlalchemy import event

from live_server import live_server
from sessiondb.api import create_app
from sessiondb.db.errors import StoreUnavailable
from sessiondb.db.sqlite import SqliteDb
from sessiondb.run import RunOutput


def _integrity(db_file: Path) -> str:
    with sqlite3.connect(db_file) as conn:
        result: str = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return result


def _page_count(db_file: Path) -> int:
    with sqlite3.connect(db_file) as conn:
        count: int = conn.execute("PRAGMA page_count").fetchone()[0]
    return count


def _big_run(number: int) -> RunOutput:
    return agent_run(f"run-{number}", f"question {number} " + "x" * 20_000)


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    """A migrated SQLite file, in a directory of its own, with session ``s`` and five runs."""
    directory = tmp_path / "data"
    directory.mkdir()
    path = directory / "faults.db"
    store = SqliteDb(db_file=path, id="main")
    seed_agent_session(store, "s", runs=[_big_run(n) for n in range(5)])
    store.close()
    return path


# -- disk full, in process (SQLITE_FULL) -----------------------------------------------------


def _cap_pages(store: SqliteDb, pages: int) -> Any:
    def cap(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    engine = store._engine
    event.listen(engine, "connect", cap)
    engine.dispose()  # pooled connections predate the cap
    return cap


async def test_a_full_disk_is_a_clear_503_and_every_acknowledged_run_survives(db_file: Path) -> None:
    store = SqliteDb(db_file=db_file, id="main")
    cap = _cap_pages(store, _page_count(db_file) + 100)
    acknowledged = {run.run_id: run.to_dict() for run in store.get_runs("s")}
    with pytest.raises(StoreUnavailable, match="database or disk is full"):
        for number in range(5, 200):
            run = _big_run(number)
            store.upsert_run("s", run)
            acknowledged[run.run_id] = run.to_dict()

    async for client in asgi_client(create_app(dbs=[store])):
        # 1 MB: more than the cap's 100 pages of headroom, so it cannot fit whatever pages the
        # rolled-back writes above left free (how many depends on which statement hit the cap).
        refused = await client.post(
            "/sessions", json={"session_id": "new", "session_state": {"x": "y" * 1_000_000}}
        )
        read = await client.get("/sessions/s")

        assert refused.status_code == 503
        assert "database or disk is full" in refused.json()["detail"]
        assert refused.headers["retry-after"]
        assert read.status_code == 200  # a full disk does not stop reads

    event.remove(store._engine, "connect", cap)
    store._engine.dispose()
    assert _integrity(db_file) == "ok"
    assert len(acknowledged) > 5  # the cap left room for a few runs before it bit
    assert {run.run_id: run.to_dict() for run in store.get_runs("s")} == acknowledged
    store.upsert_run("s", agent_run("after-space-freed", "hello"))  # writes work again
    assert store.get_run("after-space-freed").run_id == "after-space-freed"
    store.close()


# -- disk full, live server (the kernel refuses to grow the files) -------------------------------


def _create(client: httpx.Client, session_id: str) -> int:
    response = client.post(
        "/sessions", json={"session_id": session_id, "session_state": {"pad": "z" * 4_000}}
    )
    return response.status_code


@pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="needs Linux prlimit")
def test_a_server_that_cannot_grow_its_files_answers_503_and_recovers_without_restart(
    db_file: Path, tmp_path: Path
) -> None:
    with (
        live_server(
            ["--db", f"main={db_file}", "--log-level", "warning"], log_path=tmp_path / "serve.log"
        ) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as client,
    ):
        assert _create(client, "before") == 201
        largest = max(path.stat().st_size for path in db_file.parent.glob("faults.db*"))
        # The soft limit only: the hard one stays, so it can be lifted again below.
        _, hard = resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE, (largest, hard))
        statuses = [_create(client, f"full-{n}") for n in range(60)]
        acknowledged = [f"full-{n}" for n, status in enumerate(statuses) if status == 201]
        refused = client.post(
            "/sessions", json={"session_id": "refused", "session_state": {"pad": "z" * 8_000}}
        )

        assert set(statuses) <= {201, 503}, statuses
        assert refused.status_code == 503, refused.text
        assert refused.json()["detail"].startswith("Database unavailable")
        assert client.get("/sessions/s").status_code == 200  # reads still served

        resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE, (hard, hard))
        assert _create(client, "after") == 201
        assert client.get("/sessions/after").status_code == 200

    assert _integrity(db_file) == "ok"
    store = SqliteDb(db_file=db_file, auto_migrate=False)
    ids = {session.session_id for session in store.get_sessions(_all()).items}
    assert {"s", "before", "after", *acknowledged} <= ids
    assert "refused" not in ids
    assert [run.run_id for run in store.get_runs("s")] == [f"run-{n}" for n in range(5)]
    store.close()


def _all() -> Any:
    from sessiondb.db.query import SessionQuery

    return SessionQuery(limit=1000)


# -- read-only file ------------------------------------------------------------------------------

AS_ROOT = os.geteuid() == 0
_ROOT_SKIP = pytest.mark.skipif(AS_ROOT, reason="permission bits do not bind root; read-only-open covers it")


@pytest.mark.parametrize(
    "how",
    [
        "read-only-open",
        pytest.param("file-mode-0444", marks=_ROOT_SKIP),
        pytest.param("directory-mode-0555", marks=_ROOT_SKIP),
    ],
)
def test_a_read_only_database_refuses_writes_with_a_clear_503_and_stays_intact(
    db_file: Path, tmp_path: Path, how: str
) -> None:
    before = db_file.read_bytes()
    url = f"sqlite:///file:{db_file}?mode=ro&uri=true" if how == "read-only-open" else str(db_file)
    if how != "read-only-open":
        db_file.chmod(0o444)
    if how == "directory-mode-0555":
        db_file.parent.chmod(0o555)
    try:
        with (
            live_server(
                ["--db", f"main={url}", "--no-auto-migrate"], log_path=tmp_path / "serve.log"
            ) as server,
            httpx.Client(base_url=server.base_url, timeout=30) as client,
        ):
            write = client.post("/sessions", json={"session_id": "nope"})
            patch = client.patch("/sessions/s", json={"session_name": "renamed"})
            read = client.get("/sessions/s")

            for response in (write, patch):
                assert response.status_code == 503, response.text
                assert "attempt to write a readonly database" in response.json()["detail"]
            if how == "directory-mode-0555":
                # WAL needs its shared-memory file next to the database: without a writable
                # directory SQLite cannot even read, and says so the same way.
                assert read.status_code == 503
            else:
                assert read.status_code == 200
                assert read.json()["session_name"] == "question 0 " + "x" * 20_000
    finally:
        db_file.parent.chmod(0o755)
        db_file.chmod(0o644)
    assert db_file.read_bytes() == before
    assert _integrity(db_file) == "ok"
