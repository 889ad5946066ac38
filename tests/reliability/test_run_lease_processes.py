"""A run whose process is killed mid-run (SIGKILL) is recognised as abandoned once its lease runs out.

A real child process runs an agent whose model never answers, with a 2 s lease; the parent
checks that the lease is renewed while the child lives (the run outlives several leases and
stays ``RUNNING``), kills it, and a keeper watching the store (as ``sessiondb serve`` runs one)
ends the run ``ERROR`` within the lease plus one sweep period: never history, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from lease_child import SESSION_ID
from sqlalchemy import select

from sessiondb.agent._lease import LEASE_ENV, Keeper
from sessiondb.db._sql import SqlStore
from sessiondb.run import RunStatus
from store_backends import SqlTarget

T = TypeVar("T")

CHILD_LEASE_S = 2.0
SWEEP_LEASE_S = 1.5
"""The watching keeper's lease; it sweeps every third of it (0.5 s)."""
SLACK_S = 3.0
"""For a machine shared with other test runs (2 cores): what a stalled scheduler may add."""


def _until(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {timeout} s")


def _lease_of(store: SqlStore, run_id: str) -> int | None:
    runs = store._tables.runs
    with store._engine.connect() as conn:
        lease: int | None = conn.execute(
            select(runs.c.lease_expires_at).where(runs.c.run_id == run_id)
        ).scalar_one()
    return lease


def _leased_run(store: SqlStore) -> str | None:
    try:
        runs = store.get_runs(SESSION_ID, statuses=["RUNNING"])
    except Exception:  # the child has not created the session yet
        return None
    if runs and _lease_of(store, runs[0].run_id) is not None:
        return runs[0].run_id
    return None


def test_a_killed_processs_run_is_ended_error_after_its_lease(
    sql_store: SqlStore, sql_target: SqlTarget
) -> None:
    script = Path(__file__).with_name("lease_child.py")
    args = [sql_target.kind, sql_target.location, *([sql_target.schema] if sql_target.schema else [])]
    child = subprocess.Popen(
        [sys.executable, str(script), *args],
        env={**os.environ, LEASE_ENV: str(CHILD_LEASE_S)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    keeper = Keeper(SWEEP_LEASE_S)
    try:
        run_id = _until(lambda: _leased_run(sql_store), 60, "leased RUNNING run")
        first = _lease_of(sql_store, run_id)
        assert first is not None
        keeper.watched[id(sql_store)] = sql_store
        keeper.start()
        # Alive for longer than a lease: renewed from the child's keeper thread while its model
        # call blocks, so the sweeps leave it alone.
        time.sleep(CHILD_LEASE_S * 1.5)
        renewed = _lease_of(sql_store, run_id)
        assert renewed is not None and renewed > first
        assert sql_store.get_run(run_id).status == RunStatus.RUNNING
        assert child.poll() is None
    finally:
        os.kill(child.pid, signal.SIGKILL)
        killed = time.monotonic()
        child.wait(timeout=30)
        assert child.stderr is not None
        errors = child.stderr.read()
        child.stderr.close()
    try:
        assert child.returncode == -signal.SIGKILL, errors

        def ended() -> RunStatus | str | None:
            status = sql_store.get_run(run_id).status
            return status if status != RunStatus.RUNNING else None

        bound = CHILD_LEASE_S + SWEEP_LEASE_S / 3 + SLACK_S
        assert _until(ended, bound, "end of the abandoned run") == RunStatus.ERROR
        elapsed = time.monotonic() - killed
    finally:
        keeper.stopped.set()
        if keeper.thread is not None:
            keeper.thread.join(timeout=30)  # done with the store before the fixture closes it
    # Not at once: the lease had at least 2/3 of its time left when the child died.
    assert CHILD_LEASE_S / 3 < elapsed <= bound
    run = sql_store.get_run(run_id)
    assert isinstance(run.content, str) and run.content.startswith(f"Run {run_id} was abandoned")
    session = sql_store.get_session(SESSION_ID)
    assert session.get_messages() == []  # never history
    assert sql_store.get_history(SESSION_ID, max_tokens=10_000).messages == []
