"""The lease keeper: renews the leases of the runs this process executes, and sweeps abandoned runs.

One daemon thread per process. A top-level run is stored ``RUNNING`` already leased (its
first write carries the lease: ``upsert_run(lease_s=current())``, no statement more, so a
process that dies at once leaves a run that is recognised), is then held (:func:`hold`) and
released when it ends (:func:`release`). Every
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
    busy: threading.Lock = field(default_factory=threading.Lock)
    """Held for a whole tick: :func:`release` waits for it, so once a run is released the
    keeper is done with its store (its owner may close it)."""

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
        with self.busy:
            self._tick()

    def _tick(self) -> None:
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
_configured = [False]
"""Whether :func:`configure` chose the lease (then the environment is not read)."""


def _the_keeper() -> Keeper | None:
    global _keeper
    with _keeper_lock:
        if not _configured[0]:
            seconds = lease_seconds()
            _keeper = Keeper(seconds) if seconds > 0 else None
            _configured[0] = True
        return _keeper


def configure(seconds: float) -> None:
    """Use a lease of ``seconds`` in this process from now on (``0``: none), instead of the
    environment's; runs held so far are no longer renewed. For benchmarks and tests."""
    global _keeper
    if seconds < 0:
        raise ValueError(f"a lease lasts 0 seconds or more, not {seconds}")
    with _keeper_lock:
        if _keeper is not None:
            _keeper.stopped.set()
        _keeper = Keeper(seconds) if seconds > 0 else None
        _configured[0] = True


def current() -> float | None:
    """This process's run lease in seconds, or ``None`` when leases are off."""
    keeper = _the_keeper()
    return keeper.seconds if keeper is not None else None


def hold(run_id: str, store: SessionStore) -> None:
    """Renew the lease of ``run_id`` (stored leased by ``upsert_run(lease_s=current())``) until
    :func:`release`."""
    keeper = _the_keeper()
    if keeper is None:
        return
    with keeper.lock:
        keeper.held[run_id] = store
        keeper.start()


def release(run_id: str) -> None:
    """Stop renewing ``run_id``'s lease (the run ended; its final write already happened)."""
    keeper = _keeper
    if keeper is not None:
        with keeper.lock:
            keeper.held.pop(run_id, None)
        with keeper.busy:
            pass  # a tick that took the run before it was released is over


def watch(store: SessionStore) -> None:
    """Sweep ``store`` for abandoned runs every renewal period, for the life of the process."""
    keeper = _the_keeper()
    if keeper is None:
        return
    with keeper.lock:
        keeper.watched[id(store)] = store
        keeper.start()


__all__ = ["LEASE_ENV", "Keeper", "configure", "current", "hold", "lease_seconds", "release", "watch"]
