"""Cancelling a run that executes in this process: a registry of live runs, and the check between steps.

A top-level run registers itself when it starts and leaves when it ends. ``cancel_run`` (and
the HTTP cancel endpoints) sets the run's flag; the run notices it at its next step (before
it calls the model again, runs a tool, or stores anything, and once the model's current reply
is in) and ends as ``CANCELLED``: the running model call or tool is not interrupted, and the
run's changes to ``session_state`` are not saved.

A run executing in another process (another server on the same database) is reached through
the store: ``cancel_run`` then flags the stored run (``SessionStore.request_run_cancel``), and
every live run reads its flag from the store before each model call.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sessiondb.agent._effects import Blocking, CallModel, Steps
from sessiondb.db.base import SessionStore

logger = logging.getLogger("sessiondb.agent")

T = TypeVar("T")


class RunCancelled(Exception):
    """Raised inside a run's logic when the run was cancelled; the runtime stores it ``CANCELLED``."""

    def __init__(self, run_id: str) -> None:
        """Record which run was cancelled."""
        super().__init__(f"Run {run_id} was cancelled")
        self.run_id = run_id


@dataclass
class LiveRun:
    """A run executing in this process.

    Attributes:
        run_id: the run.
        runtime_id: the agent, team or workflow executing it.
        user_id: the run's user (``None`` when it has none).
        store: where the run is stored, read for a cancel requested by another process.
        cancelled: set once the run is asked to stop.
    """

    run_id: str
    runtime_id: str | None
    user_id: str | None
    store: SessionStore | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)


_live: dict[str, LiveRun] = {}
_lock = threading.Lock()


def register(run_id: str, runtime_id: str | None, user_id: str | None, store: SessionStore) -> LiveRun:
    """Record that ``run_id`` executes here; :func:`unregister` it when it ends."""
    live = LiveRun(run_id, runtime_id, user_id, store)
    with _lock:
        _live[run_id] = live
    return live


def unregister(run_id: str) -> None:
    """Forget a run that ended."""
    with _lock:
        _live.pop(run_id, None)


def request_cancel(run_id: str, *, runtime_id: str | None, user_id: str | None = None) -> bool:
    """Ask the run ``run_id`` of ``runtime_id`` executing here to stop; whether it was.

    Args:
        user_id: when given, only a run of this user is cancelled.
    """
    with _lock:
        live = _live.get(run_id)
    if live is None or live.runtime_id != runtime_id:
        return False
    if user_id is not None and live.user_id != user_id:
        return False
    live.cancelled.set()
    return True


def _asked_elsewhere(live: LiveRun) -> bool:
    """Whether another process asked the store to cancel the run (a store error counts as no)."""
    if live.store is None:
        return False
    try:
        return live.run_id in live.store.cancel_requested([live.run_id])
    except Exception:  # a store that cannot answer now must not fail the run; the next check retries
        logger.warning("could not read the cancel request of run %s", live.run_id, exc_info=True)
        return False


def until_cancelled(steps: Steps[T], live: LiveRun) -> Steps[T]:
    """Run ``steps``, checking ``live`` before each of its effects and once it is done.

    Before each model call and once ``steps`` is done the store is asked too (one read by
    primary key each), so a cancel requested through another process stops the run as well.

    Raises:
        RunCancelled: the run was cancelled; ``steps`` has been closed (its ``finally``
            blocks ran) and nothing after the check was performed.
    """
    value: Any = None
    error: BaseException | None = None
    while True:
        if live.cancelled.is_set():
            steps.close()
            raise RunCancelled(live.run_id)
        try:
            effect = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as stop:
            result: T = stop.value
            if live.cancelled.is_set() or (yield Blocking(lambda: _asked_elsewhere(live))):
                raise RunCancelled(live.run_id) from None
            return result
        value, error = None, None
        try:
            if isinstance(effect, CallModel) and (yield Blocking(lambda: _asked_elsewhere(live))):
                live.cancelled.set()
                continue  # stopped at the top of the loop
            value = yield effect
        except GeneratorExit:
            steps.close()
            raise
        except Exception as exc:  # the effect failed: handed to ``steps``, which decides
            error = exc


__all__ = ["LiveRun", "RunCancelled", "register", "request_cancel", "unregister", "until_cancelled"]
