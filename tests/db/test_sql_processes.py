"""Several processes (and threads) on one SQL database, and a writer killed mid-way.

Marked slow, but run by default: they are what makes the stores safe to share.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest
import sqlalchemy
from crash_writer import SESSION_ID, crash_run
from db_builders import agent_run, agent_session

from sessiondb.db._sql import SqlStore
from sessiondb.db.errors import VersionConflict
from store_backends import SqlTarget

pytestmark = pytest.mark.slow

WORKERS = 8
RUNS_PER_WORKER = 100


def _append(target: SqlTarget, worker: int) -> None:
    store = target.open(auto_migrate=False)
    for number in range(RUNS_PER_WORKER):
        # Agno's pattern: load, add the run in memory, save the session. A short window keeps
        # the load cheap; what the save writes does not depend on it.
        session = store.get_session("shared", runs_limit=2)
        session.upsert_run(agent_run(f"w{worker}-{number}", f"worker {worker} run {number}"))
        store.upsert_session(session)
    store.close()


def test_eight_processes_appending_to_one_session_lose_nothing(
    sql_store: SqlStore, sql_target: SqlTarget
) -> None:
    sql_store.upsert_session(agent_session("shared"))
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append, args=(sql_target, worker)) for worker in range(WORKERS)]
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() in a process with threads; the children only open
        # their own stores, which is safe.
        warnings.simplefilter("ignore", DeprecationWarning)
        for process in workers:
            process.start()
    for process in workers:
        process.join(timeout=120)
    assert [process.exitcode for process in workers] == [0] * WORKERS

    stored = [run.run_id for run in sql_store.get_runs("shared")]
    assert len(stored) == len(set(stored)) == WORKERS * RUNS_PER_WORKER
    for worker in range(WORKERS):
        # Each worker's runs keep the order it appended them in.
        mine = [run_id for run_id in stored if run_id.startswith(f"w{worker}-")]
        assert mine == [f"w{worker}-{number}" for number in range(RUNS_PER_WORKER)]
    runs = sql_store._tables.runs
    with sql_store._engine.connect() as conn:
        distinct = conn.execute(
            sqlalchemy.select(sqlalchemy.func.count(sqlalchemy.distinct(runs.c.run_index)))
        )
        assert distinct.scalar_one() == WORKERS * RUNS_PER_WORKER
    assert sql_store.get_session("shared", runs_limit=1).version == 1 + WORKERS * RUNS_PER_WORKER


def _race(contenders: list[SqlStore], version: int) -> list[str]:
    """Both stores update the state at ``version`` at the same moment; returns each outcome."""
    start = threading.Barrier(len(contenders))
    outcomes: list[str] = []

    def update(store: SqlStore, label: str) -> None:
        start.wait()
        try:
            store.update_session("contested", session_state={"by": label}, expected_version=version)
            outcomes.append(f"won:{label}")
        except VersionConflict as conflict:
            outcomes.append(f"conflict:{conflict.current}")

    threads = [threading.Thread(target=update, args=(store, str(n))) for n, store in enumerate(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_of_two_conditional_updates_from_one_version_exactly_one_wins(
    sql_store: SqlStore, sql_target: SqlTarget
) -> None:
    sql_store.upsert_session(agent_session("contested", session_data={"session_state": {"n": 0}}))
    for _ in range(5):
        contenders = [sql_target.open(auto_migrate=False) for _ in range(2)]
        try:
            version = contenders[0].get_session("contested").version
            assert version is not None and contenders[1].get_session("contested").version == version
            lost, won = _race(contenders, version)
        finally:
            for store in contenders:
                store.close()
        assert lost == f"conflict:{version + 1}" and won.startswith("won:")
        stored = sql_store.get_session("contested")
        assert stored.version == version + 1
        assert stored.session_data == {"session_state": {"by": won.removeprefix("won:")}}


def test_a_writer_killed_mid_way_leaves_every_committed_run_intact(
    sql_store: SqlStore, sql_target: SqlTarget
) -> None:
    sql_store.upsert_session(agent_session(SESSION_ID))
    script = Path(__file__).with_name("crash_writer.py")
    args = [sql_target.kind, sql_target.location, *([sql_target.schema] if sql_target.schema else [])]
    writer = subprocess.Popen(
        [sys.executable, str(script), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    committed: list[str] = []
    try:
        for line in writer.stdout:
            committed.append(line.strip())
            if len(committed) == 40:
                break
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
        writer.stdout.close()
        assert writer.stderr is not None
        errors = writer.stderr.read()
        writer.stderr.close()
    assert len(committed) == 40, errors
    assert writer.returncode == -signal.SIGKILL

    reopened = sql_target.open(auto_migrate=False)
    stored = {run.run_id: run for run in reopened.get_session(SESSION_ID).runs or []}
    for run_id in committed:
        number = int(run_id.removeprefix("run-"))
        assert stored[run_id].to_dict() == crash_run(number).to_dict()
    # The writer may have committed a run or two after its last print; nothing else is there.
    assert list(stored)[: len(committed)] == committed
    if sql_target.kind == "sqlite":
        with reopened._engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    reopened.upsert_run(SESSION_ID, agent_run("after-crash"))
    assert reopened.get_run("after-crash").run_id == "after-crash"
    reopened.close()
