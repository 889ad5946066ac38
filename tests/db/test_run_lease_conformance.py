"""``renew_run_leases`` / ``expire_run_leases``: a run nobody renews is ended ``ERROR``."""

from __future__ import annotations

from pathlib import Path

import pytest
from db_builders import agent_run, agent_session

from sessiondb.db import leases
from sessiondb.db._sql.run_lease import expired_query
from sessiondb.db.base import SessionStore
from sessiondb.db.leases import MAX_EXPIRED_PER_SWEEP
from sessiondb.db.sqlite import SqliteDb
from sessiondb.run import RunStatus

HOUR_MS = 3_600_000


def _later(ms: int) -> int:
    return leases.now_ms() + ms


def test_only_runs_in_progress_are_leased(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=1))  # s1-r0 is COMPLETED
    store.upsert_run("s1", agent_run("live", status=RunStatus.RUNNING))
    store.upsert_run("s1", agent_run("queued", status=RunStatus.PENDING))
    renewed = store.renew_run_leases(["live", "queued", "s1-r0", "no-such-run"], seconds=10)
    assert renewed == {"live", "queued"}
    assert store.renew_run_leases([], seconds=10) == set()
    with pytest.raises(ValueError, match="0 seconds or more"):
        store.renew_run_leases(["live"], seconds=-1)


def test_an_expired_lease_ends_the_run_as_error_and_it_is_never_history(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=1))
    store.upsert_run("s1", agent_run("dead", "half a question", status=RunStatus.RUNNING))
    store.upsert_run("s1", agent_run("unleased", status=RunStatus.RUNNING))
    store.renew_run_leases(["dead"], seconds=10)
    version = store.get_session("s1", runs_limit=0).version

    assert store.expire_run_leases() == []  # the lease has 10 s left
    assert store.get_run("dead").status == RunStatus.RUNNING
    assert store.expire_run_leases(now_ms=_later(11_000)) == ["dead"]

    dead = store.get_run("dead")
    assert dead.status == RunStatus.ERROR
    assert isinstance(dead.content, str)
    assert dead.content.startswith("Run dead was abandoned: the process executing it stopped renewing")
    kept = agent_run("dead", "half a question").messages or []
    assert [(m.role, m.content) for m in dead.messages or []] == [(m.role, m.content) for m in kept]
    # A run nobody leased is never expired, however late.
    assert store.get_run("unleased").status == RunStatus.RUNNING
    assert store.expire_run_leases(now_ms=_later(HOUR_MS)) == []
    session = store.get_session("s1")
    assert session.version > version  # an ordinary run write
    history = session.get_messages()
    completed = store.get_run("s1-r0").messages or []
    assert history and [m.content for m in history] == [m.content for m in completed]
    assert [run.run_id for run in store.get_session("s1", runs_limit=5).runs or []] == ["s1-r0"]
    assert [run.run_id for run in store.get_runs("s1", statuses=["ERROR"])] == ["dead"]


def test_a_renewed_lease_or_an_ended_run_is_left_alone(store: SessionStore) -> None:
    store.upsert_session(agent_session())
    store.upsert_run("s1", agent_run("renewed", status=RunStatus.RUNNING))
    store.upsert_run("s1", agent_run("ended", status=RunStatus.RUNNING))
    store.renew_run_leases(["renewed", "ended"], seconds=1)
    store.renew_run_leases(["renewed"], seconds=60)
    # The process ends its run (the final write), leaving the lease column as it was.
    store.upsert_run("s1", agent_run("ended", "done", status=RunStatus.COMPLETED))
    assert store.expire_run_leases(now_ms=_later(5_000)) == []
    assert store.get_run("renewed").status == RunStatus.RUNNING
    assert store.get_run("ended").status == RunStatus.COMPLETED
    assert store.renew_run_leases(["ended"], seconds=60) == set()  # an ended run takes no lease
    # A rewrite of the run in progress (a workflow step) keeps its lease.
    store.upsert_run("s1", agent_run("renewed", "step 2", status=RunStatus.RUNNING))
    assert store.expire_run_leases(now_ms=_later(61_000)) == ["renewed"]


def test_a_slow_process_that_ends_its_run_after_the_expiry_stores_its_real_end(store: SessionStore) -> None:
    store.upsert_session(agent_session())
    store.upsert_run("s1", agent_run("slow", status=RunStatus.RUNNING))
    store.renew_run_leases(["slow"], seconds=0)
    assert store.expire_run_leases(now_ms=_later(1)) == ["slow"]
    assert store.renew_run_leases(["slow"], seconds=30) == set()  # what its keeper would see
    store.upsert_run("s1", agent_run("slow", "the reply", status=RunStatus.COMPLETED))
    assert store.get_run("slow").status == RunStatus.COMPLETED
    assert store.expire_run_leases(now_ms=_later(HOUR_MS)) == []


def test_a_run_of_a_deleted_session_is_not_expired(store: SessionStore) -> None:
    store.upsert_session(agent_session())
    store.upsert_run("s1", agent_run("dead", status=RunStatus.RUNNING))
    store.renew_run_leases(["dead"], seconds=0)
    store.delete_session("s1")
    assert store.expire_run_leases(now_ms=_later(1_000)) == []


def test_a_run_stored_with_lease_s_is_leased_in_the_same_write(store: SessionStore) -> None:
    store.upsert_session(agent_session())
    store.upsert_run("s1", agent_run("leased", status=RunStatus.RUNNING), lease_s=10)
    store.upsert_run("s1", agent_run("ended", status=RunStatus.COMPLETED), lease_s=10)
    assert store.expire_run_leases(now_ms=_later(5_000)) == []
    # A rewrite without a lease keeps the one stored; one with a lease replaces it.
    store.upsert_run("s1", agent_run("leased", "step 2", status=RunStatus.RUNNING))
    assert store.expire_run_leases(now_ms=_later(11_000)) == ["leased"]
    store.upsert_run("s1", agent_run("again", status=RunStatus.RUNNING), lease_s=10)
    store.upsert_run("s1", agent_run("again", "step 2", status=RunStatus.RUNNING), lease_s=60)
    assert store.expire_run_leases(now_ms=_later(11_000)) == []
    assert store.expire_run_leases(now_ms=_later(61_000)) == ["again"]
    assert store.get_run("ended").status == RunStatus.COMPLETED


def test_the_sweep_reads_the_partial_lease_index_on_sqlite(tmp_path: Path) -> None:
    store = SqliteDb(db_file=tmp_path / "plan.db")
    store.migrate()
    runs = store._tables.runs
    query = expired_query(store._tables, now=leases.now_ms(), limit=MAX_EXPIRED_PER_SWEEP)
    with store._engine.connect() as conn:
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert f"USING INDEX idx_{runs.name}_lease" in plan, plan
    store.close()
