"""The app ``sessiondb serve`` runs, in one process or in several workers (``--workers N``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from live_server import live_server
from sessiondb.api.serve import ServeSettings
from sessiondb.api.served import (
    SETTINGS_VARIABLE,
    build_served_app,
    export_settings,
    refuse_per_process_stores,
    worker_app,
)
from sessiondb.db import InMemoryDb, SqliteDb
from store_backends import PG_URL, postgres_schema


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever :func:`export_settings` puts in the environment is gone after the test."""
    monkeypatch.setenv(SETTINGS_VARIABLE, "")
    monkeypatch.delenv(SETTINGS_VARIABLE)


@pytest.mark.usefixtures("clean_environment")
def test_a_worker_builds_the_app_its_parent_was_configured_with(tmp_path: Path) -> None:
    settings = ServeSettings(
        db=(f"main={tmp_path / 'a.db'}", f"other={tmp_path / 'b.db'}"),
        security_key="k",
        max_body_bytes=1234,
        workers=3,
    )

    export_settings(settings, None)
    app = worker_app()

    assert app.state.registry.ids() == ["main", "other"]
    assert app.state.auth.security_key == "k"
    assert all(isinstance(store, SqliteDb) for _, store in app.state.registry.items())
    assert json.loads(os.environ[SETTINGS_VARIABLE])["settings"]["workers"] == 3


@pytest.mark.usefixtures("clean_environment")
def test_worker_app_outside_serve_says_how_it_is_started() -> None:
    with pytest.raises(RuntimeError, match="sessiondb serve --workers"):
        worker_app()


def test_several_workers_over_an_in_memory_store_are_refused(tmp_path: Path) -> None:
    served = build_served_app(ServeSettings(db=("mem=memory", f"disk={tmp_path / 'a.db'}")), None)
    try:
        refuse_per_process_stores(served, 1)  # one process: the memory store is fine
        with pytest.raises(ValueError, match=r"--workers 2 .*\['mem'\] is in memory"):
            refuse_per_process_stores(served, 2)
    finally:
        served.close()
    assert any(isinstance(store, InMemoryDb) for _, store in served.app.state.registry.items())


def test_several_workers_over_an_in_memory_sqlite_database_are_refused(tmp_path: Path) -> None:
    served = build_served_app(ServeSettings(db=("mem=sqlite://", f"disk={tmp_path / 'a.db'}")), None)
    try:
        with pytest.raises(ValueError, match=r"\['mem'\] is in memory"):
            refuse_per_process_stores(served, 4)
    finally:
        served.close()


@pytest.mark.parametrize("workers", [0, -1, True, 1.5])
def test_workers_below_one_or_not_whole_are_refused(workers: object) -> None:
    with pytest.raises(ValueError, match=r"workers \(--workers\) must be a whole number, at least 1"):
        ServeSettings(workers=workers)  # type: ignore[arg-type]


@contextmanager
def _database(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield str(tmp_path / "served.db")
        return
    with postgres_schema("workers") as schema:
        yield f"{PG_URL}?schema={schema}"


def _worker_pids(server_pid: int) -> list[int]:
    """The server's child processes that run the app (uvicorn spawns them with multiprocessing)."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    command_lines = {int(pid): Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children}
    return [
        pid
        for pid, command in command_lines.items()
        if b"multiprocessing.spawn" in command and b"resource_tracker" not in command
    ]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_workers_serve_the_same_database_and_lose_no_write(backend: str, tmp_path: Path) -> None:
    with (
        _database(backend, tmp_path) as url,
        live_server(
            ["--db", url, "--workers", "2", "--security-key", "k"], log_path=tmp_path / "serve.log"
        ) as server,
    ):
        assert len(_worker_pids(server.process.pid)) == 2, server.output()

        def create(number: int) -> int:
            # A new connection per request, so the kernel spreads them over both workers.
            with httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer k"}) as client:
                body = {"session_id": f"s{number}", "user_id": "ada", "agent_id": "a"}
                return client.post("/sessions", params={"type": "agent"}, json=body).status_code

        def anonymous_read(_: int) -> int:
            return httpx.get(f"{server.base_url}/sessions", params={"type": "agent"}).status_code

        with ThreadPoolExecutor(8) as pool:
            created = list(pool.map(create, range(60)))
            anonymous = list(pool.map(anonymous_read, range(40)))
        listed = httpx.get(
            f"{server.base_url}/sessions",
            params={"type": "agent", "user_id": "ada", "limit": 100},
            headers={"Authorization": "Bearer k"},
        ).json()

    assert created == [201] * 60, server.output()
    # Every worker got the key from the parent: none of them answers without it.
    assert anonymous == [401] * 40
    assert listed["meta"]["total_count"] == 60
    assert {item["session_id"] for item in listed["data"]} == {f"s{n}" for n in range(60)}
    assert server.process.returncode == 0, server.output()
