"""The HTTP read path's speed measures keep behaviour: bounded store threads, one query model."""

from __future__ import annotations

import threading
import time

import anyio
import httpx
import pytest
from fastapi import FastAPI

from sessiondb.api import create_app
from sessiondb.api.deps import offload
from sessiondb.db.base import READ_THREADS, read_limiter
from sessiondb.db.memory import InMemoryDb


async def test_offload_runs_at_most_read_threads_calls_at_once() -> None:
    lock = threading.Lock()
    running = 0
    peak = 0

    def blocking_call(value: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return value * 2

    results: list[int] = []

    async def one(value: int) -> None:
        results.append(await offload(blocking_call, value))

    async with anyio.create_task_group() as group:
        for value in range(READ_THREADS * 3):
            group.start_soon(one, value)

    assert peak == READ_THREADS
    assert sorted(results) == [value * 2 for value in range(READ_THREADS * 3)]


async def test_offload_raises_what_the_call_raises_and_keeps_one_limiter_per_loop() -> None:
    def failing() -> None:
        raise LookupError("gone")

    with pytest.raises(LookupError, match="gone"):
        await offload(failing)
    assert read_limiter() is read_limiter()
    assert read_limiter().total_tokens == READ_THREADS


def _list_parameters(app: FastAPI) -> list[tuple[str, bool, str | None]]:
    operation = app.openapi()["paths"]["/sessions"]["get"]
    return [(p["name"], p.get("required", False), p.get("description")) for p in operation["parameters"]]


def test_list_query_model_documents_each_parameter_as_before() -> None:
    parameters = _list_parameters(create_app(InMemoryDb()))
    names = [name for name, _, _ in parameters]

    assert names == [
        "type",
        "component_id",
        "session_name",
        "limit",
        "page",
        "sort_by",
        "sort_order",
        "cursor",
        "created_after",
        "created_before",
        "metadata",
        "deleted",
        "db_id",
        "table",
        "user_id",
    ]
    assert all(not required and description for _, required, description in parameters)


async def test_list_query_model_reads_the_type_alias_and_reports_every_bad_field(
    memory_client: httpx.AsyncClient,
) -> None:
    ok = await memory_client.get("/sessions", params={"type": "team", "limit": "5", "page": "2"})
    bad = await memory_client.get("/sessions", params={"limit": "0", "sort_order": "up"})

    assert ok.status_code == 200
    assert ok.json()["meta"]["limit"] == 5 and ok.json()["meta"]["page"] == 2
    assert bad.status_code == 422
    assert sorted(tuple(error["loc"]) for error in bad.json()["detail"]) == [
        ("query", "limit"),
        ("query", "sort_order"),
    ]
