"""Four processes x 20 runs of one agent into one session through the Python API: every run lands.

Before the end of a run was committed under the session's row lock, 8 processes x 20
``Agent.run`` on one session raised ``VersionConflict`` for 36 of the 160 runs.
"""

from __future__ import annotations

import multiprocessing
import queue
import warnings
from multiprocessing.queues import Queue
from typing import Any

import pytest

from hot_session import Burst, hot_runtimes, lost_in
from sessiondb.db._sql import SqlStore
from store_backends import SqlTarget

pytestmark = pytest.mark.slow

PROCESSES = 4
RUNS_EACH = 20


def _run_agent(target: SqlTarget, number: int, results: Queue[Any]) -> None:
    store = target.open(auto_migrate=False)
    agent, _ = hot_runtimes(store)
    try:
        for turn in range(RUNS_EACH):
            results.put(agent.run(f"process {number} turn {turn}", session_id="hot").run_id)
    except BaseException as exc:
        # A repr, not the exception: not every exception survives the trip through pickle.
        results.put(("failed", repr(exc)))
        raise
    finally:
        store.close()


def test_processes_running_into_one_session_lose_no_run_and_no_state(
    sql_store: SqlStore, sql_target: SqlTarget
) -> None:
    context = multiprocessing.get_context("fork")
    results: Queue[Any] = context.Queue()
    workers = [context.Process(target=_run_agent, args=(sql_target, n, results)) for n in range(PROCESSES)]
    with warnings.catch_warnings():
        # fork() in a process with threads warns on 3.12+; the children only open their own stores.
        warnings.simplefilter("ignore", DeprecationWarning)
        for process in workers:
            process.start()
    for process in workers:
        process.join(timeout=120)
    answers = []
    while not results.empty() or len(answers) < PROCESSES * RUNS_EACH:
        try:
            answers.append(results.get(timeout=2))
        except queue.Empty:
            break
    assert [a for a in answers if not isinstance(a, str)] == []
    assert len(answers) == PROCESSES * RUNS_EACH
    assert [process.exitcode for process in workers] == [0] * PROCESSES
    assert lost_in(sql_store, "hot", Burst(run_ids=answers)) == []
