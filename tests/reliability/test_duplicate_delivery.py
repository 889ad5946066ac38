"""A run delivered several times at once (a retry racing the original) is stored once.

The store contract's conformance suite covers two deliveries one after the other; a client
that timed out and retried may race its own first delivery instead, from another connection.
Retries after a dropped connection are in ``test_postgres_faults.py``.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from api_seed import agent_run

from sessiondb.db.base import SessionStore
from sessiondb.run import RunOutput
from sessiondb.session import AgentSession

DELIVERIES = 8


def _deliver_at_once(store: SessionStore, runs: list[RunOutput]) -> list[int]:
    barrier = threading.Barrier(len(runs))

    def deliver(run: RunOutput) -> int:
        barrier.wait()
        return store.upsert_run("s", run)

    with ThreadPoolExecutor(len(runs)) as pool:
        return list(pool.map(deliver, runs))


def test_concurrent_deliveries_of_one_run_store_it_once_at_one_index(store: SessionStore) -> None:
    store.upsert_session(AgentSession(session_id="s", user_id="alice", agent_id="agent-1"))
    store.upsert_run("s", agent_run("before", "first"))
    run = agent_run("dup", "hello")

    indexes = _deliver_at_once(store, [run] * DELIVERIES)
    store.upsert_run("s", agent_run("after", "last"))

    assert len(set(indexes)) == 1  # every delivery was told the same place
    assert [r.run_id for r in store.get_runs("s")] == ["before", "dup", "after"]
    assert store.get_run("dup", session_id="s").to_dict() == run.to_dict()


def test_a_retry_carrying_a_newer_status_replaces_the_run_in_place(store: SessionStore) -> None:
    store.upsert_session(AgentSession(session_id="s", user_id="alice", agent_id="agent-1"))
    running = agent_run("r1", "hello", status="RUNNING")
    done = running.model_copy(update={"status": "COMPLETED"})

    _deliver_at_once(store, [running, done, running, done])
    store.upsert_run("s", done)  # the client's last word after the race

    stored = store.get_runs("s")
    assert [r.run_id for r in stored] == ["r1"]
    assert stored[0].status_value == "COMPLETED"
