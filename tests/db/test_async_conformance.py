"""The async twins of the storage contract, briefly, against every backend."""

from __future__ import annotations

import pytest
from db_builders import agent_run, agent_session

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import RunNotFound, SessionNotFound, VersionConflict
from sessiondb.db.query import SessionQuery


async def test_async_twins_round_trip(store: SessionStore) -> None:
    await store.acreate_session(agent_session("a", runs=1))
    await store.aupsert_sessions([agent_session("b")])
    saved = await store.aupsert_session(agent_session("c"))
    assert saved.version == 1
    assert [r.run_id for r in (await store.aget_session("a")).runs or []] == ["a-r0"]
    assert (await store.aget_sessions(SessionQuery(limit=2))).total_count == 3
    assert (await store.arename_session("a", session_name="named")).get_session_name() == "named"
    updated = await store.aupdate_session("a", session_state={"x": 1}, expected_version=2)
    assert updated.version == 3
    with pytest.raises(VersionConflict):
        await store.aupdate_session("a", session_state={}, expected_version=2)
    assert await store.aupsert_run("a", agent_run("a-r1")) >= 1
    assert (await store.aget_run("a-r1")).run_id == "a-r1"
    assert [r.run_id for r in await store.aget_runs("a", last_n=1)] == ["a-r1"]
    assert await store.adelete_run("a-r1") is True
    with pytest.raises(RunNotFound):
        await store.aget_run("a-r1")
    assert await store.adelete_session("c") is True
    assert await store.adelete_sessions(["a", "b"]) == 2
    with pytest.raises(SessionNotFound):
        await store.aget_session("a")
    await store.aping()
