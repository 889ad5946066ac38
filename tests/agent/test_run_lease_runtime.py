"""The runtimes lease the runs they execute (``sessiondb.agent._lease``), on every backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sessiondb.agent import Agent, _lease
from sessiondb.db import leases
from sessiondb.db.base import SessionStore
from sessiondb.models import FunctionModel, ModelRequest
from sessiondb.run.agent import RunOutput
from sessiondb.run.message import Message
from sessiondb.run.status import RunStatus
from sessiondb.session import AgentSession
from sessiondb.workflow import Step, Workflow

LATER_MS = 31_000
"""Past a lease of :data:`~sessiondb.db.leases.DEFAULT_LEASE_SECONDS` taken now."""


@pytest.fixture
def lease_on() -> Iterator[None]:
    _lease.configure(leases.DEFAULT_LEASE_SECONDS)
    yield
    _lease.configure(leases.DEFAULT_LEASE_SECONDS)


def _expiring_model(store: SessionStore, seen: list[list[str]]) -> FunctionModel:
    """A model that, mid-run, sweeps the store as it would be once the lease ran out."""

    def reply(messages: list[Message], request: ModelRequest) -> str:
        seen.append(store.expire_run_leases(now_ms=leases.now_ms() + LATER_MS))
        return "still here"

    return FunctionModel(function=reply)


def test_a_run_is_stored_leased_and_a_slow_run_stores_its_real_end(
    store: SessionStore, lease_on: None
) -> None:
    seen: list[list[str]] = []
    agent = Agent(model=_expiring_model(store, seen), db=store, session_id="s1")
    run = agent.run("hi")
    # The sweep found the run leased (from its first write) and ended it ERROR; the process
    # was alive after all, and its final write replaced that.
    assert seen == [[run.run_id]]
    stored = store.get_run(run.run_id)
    assert stored.status == RunStatus.COMPLETED and stored.content == "still here"
    # Ended runs are not held: nothing is renewed or swept later.
    assert store.renew_run_leases([run.run_id], seconds=30) == set()


def test_with_leases_off_a_run_is_never_expired(store: SessionStore) -> None:
    _lease.configure(0)
    try:
        seen: list[list[str]] = []
        Agent(model=_expiring_model(store, seen), db=store, session_id="s1").run("hi")
        assert seen == [[]]
    finally:
        _lease.configure(leases.DEFAULT_LEASE_SECONDS)


def test_a_workflow_run_is_leased(store: SessionStore, lease_on: None) -> None:
    seen: list[list[str]] = []
    agent = Agent(model=_expiring_model(store, seen), db=store)
    workflow = Workflow(name="leased", db=store, steps=[Step(name="ask", agent=agent)])
    run = workflow.run("hi", session_id="w1")
    assert seen and run.run_id in seen[0]
    assert store.get_run(run.run_id).status == RunStatus.COMPLETED


def test_the_keeper_renews_what_it_holds_and_sweeps_what_it_watches(store: SessionStore) -> None:
    store.upsert_session(AgentSession(session_id="s1", agent_id="a"))
    for run_id in ("held", "dead"):
        store.upsert_run("s1", RunOutput(run_id=run_id, agent_id="a", status=RunStatus.RUNNING), lease_s=0)
    keeper = _lease.Keeper(30)
    keeper.held["held"] = store
    keeper.tick()  # renews "held" for 30 s, then sweeps: "dead" is ended
    assert store.get_run("held").status == RunStatus.RUNNING
    assert store.get_run("dead").status == RunStatus.ERROR
    assert store.expire_run_leases(now_ms=leases.now_ms() + 20_000) == []


def test_the_lease_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_lease.LEASE_ENV, "")
    assert _lease.lease_seconds() == leases.DEFAULT_LEASE_SECONDS
    monkeypatch.setenv(_lease.LEASE_ENV, "2.5")
    assert _lease.lease_seconds() == 2.5
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv(_lease.LEASE_ENV, bad)
        with pytest.raises(ValueError, match=_lease.LEASE_ENV):
            _lease.lease_seconds()
    with pytest.raises(ValueError, match="0 seconds or more"):
        _lease.configure(-1)
