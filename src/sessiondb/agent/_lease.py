"""The lease keeper: renews the leases of the runs this process executes, and sweeps abandoned runs.

One daemon thread per process. A top-level run is leased right after it is stored ``RUNNING``
(:func:`hold`, one ``UPDATE`` by primary key in the run's own thread, so a process that dies
at once leaves a run that is recognised), and released when it ends (:func:`release`). Every
renewal period the thread renews, per store, the leases of every run it holds (one ``UPDATE``
per store, whatever the number of runs) and ends the abandoned runs of that store
(``expire_run_leases``: one indexed read when there are none). A store named with :func:`watch`
(``sessiondb serve`` names the stores it serves) is swept even while no run executes.

The thread renews from outside the run's own steps, so a model call or tool that takes longer
than the lease keeps it. It starts with the first run (or watch) and then lives as long as
the process. The lease is :data:`~sessiondb.db.leases.DEFAULT_LEASE_SECONDS` unless
``SESSIONDB_RUN_LEASE_SECONDS`` says otherwise; ``0`` turns leases off in this process (its
runs are never expired, as before 0008). See :mod:`sessiondb.db.leases`.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field

from sessiondb.db.base import SessionStore
from sessiondb.db.leases import DEFAULT_LEASE_SECONDS, RENEW_FRACTION

logger = logging.getLogger("sessiondb.agent")

LEASE_ENV = "SESSIONDB_RUN_LEASE_SECONDS"


def lease_seconds() -> float:
    """This process's run lease: ``SESSIONDB_RUN_LEASE_SECONDS``, else the default (``0``: off).

    Raises:
        ValueError: the variable is not a number of seconds, or is negative.
    """
    raw = os.environ.get(LEASE_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_LEASE_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{LEASE_ENV} must be a number of seconds, not {raw!r}") from None
    if seconds < 0 or seconds != seconds:
        raise ValueError(f"{LEASE_ENV} must be 0 or more, not {raw!r}")
    return seconds


@dataclass
class Keeper:
    """The runs held and the stores watched, and the thread that renews and sweeps them.

    The process has one (:func:`hold`, :func:`watch`); a test may run its own, and ``stopped``
    ends its thread.
    """

    seconds: float
    held: dict[str, SessionStore] = field(default_factory=dict)
    watched: dict[int, SessionStore] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None
    stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        """Start the thread unless it runs (call under ``lock``)."""
        if self.thread is None:
            self.thread = threading.Thread(target=self._loop, name="sessiondb-run-leases", daemon=True)
            self.thread.start()

    def _loop(self) -> None:
        while not self.stopped.wait(self.seconds * RENEW_FRACTION):
            self.tick()

    def tick(self) -> None:
        """Renew every held run's lease, then sweep each store once (errors are logged)."""
        with self.lock:
            by_store: dict[int, tuple[SessionStore, list[str]]] = {}
            for run_id, store in self.held.items():
                by_store.setdefault(id(store), (store, []))[1].append(run_id)
            stores = {key: store for key, store in self.watched.items()}
        for key, (store, run_ids) in by_store.items():
            stores[key] = store
            try:
                renewed = store.renew_run_leases(run_ids, seconds=self.seconds)
            except Exception:  # a store that cannot answer now must not stop the thread
                logger.warning("could not renew the leases of %d runs", len(run_ids), exc_info=True)
                continue
            lost = set(run_ids) - renewed
            if lost:
                # Ended meanwhile (released a moment later), or declared abandoned after this
                # process stalled for longer than the lease: its end, when stored, replaces that.
                logger.info("runs no longer in progress when their lease was renewed: %s", sorted(lost))
        for store in stores.values():
            try:
                ended = store.expire_run_leases()
            except Exception:  # as above: the next tick sweeps again
                logger.warning("could not sweep the abandoned runs of %s", store.id, exc_info=True)
                continue
            if ended:
                logger.warning("runs abandoned by a process that stopped, stored ERROR: %s", ended)


_keeper: Keeper | None = None
_keeper_lock = threading.Lock()


def _the_keeper() -> Keeper | None:
    global _keeper
    with _keeper_lock:
        if _keeper is None:
            seconds = lease_seconds()
            if seconds == 0:
                return None
            _keeper = Keeper(seconds)
        return _keeper


def hold(run_id: str, store: SessionStore) -> None:
    """Lease the stored run ``run_id`` now and renew it until :func:`release`."""
    keeper = _the_keeper()
    if keeper is None:
        return
    try:
        store.renew_run_leases([run_id], seconds=keeper.seconds)
    except Exception:  # the run must not fail for its lease; the keeper's next renewal retries
        logger.warning("could not lease run %s", run_id, exc_info=True)
    with keeper.lock:
        keeper.held[run_id] = store
        keeper.start()


def release(run_id: str) -> None:
    """Stop renewing ``run_id``'s lease (the run ended; its final write already happened)."""
    keeper = _keeper
    if keeper is not None:
        with keeper.lock:
            keeper.held.pop(run_id, None)


def watch(store: SessionStore) -> None:
    """Sweep ``store`` for abandoned runs every renewal period, for the life of the process."""
    keeper = _the_keeper()
    if keeper is None:
        return
    with keeper.lock:
        keeper.watched[id(store)] = store
        keeper.start()


__all__ = ["LEASE_ENV", "Keeper", "hold", "lease_seconds", "release", "watch"]
