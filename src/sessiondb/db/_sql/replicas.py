"""Which engine serves a read when a PostgreSQL store has read replicas.

A read goes to a replica, in turn, when the request's consistency floor (see
:mod:`sessiondb.db.consistency`) is unset or the replica has replayed up to it; otherwise, or
when no replica answers, to the primary. Each replica's replayed position is asked on the very
connection that will serve the read, so the answer cannot go stale between the check and the
read. Writes never come here.

Counters of where reads went, and each replica's last known lag, feed ``/health``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy import exc as sa_exc

from sessiondb.db import consistency

_REPLAYED = text(
    "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END::text"
)
_PRIMARY_POSITION = text("SELECT pg_current_wal_lsn()::text")


def primary_position(conn: Connection) -> int:
    """The primary's current WAL position (after a commit: at least that commit's)."""
    return consistency.parse_position(str(conn.execute(_PRIMARY_POSITION).scalar_one()))


@dataclass
class Replica:
    """One replica: its engine, where it is (no password) and what was last seen of it."""

    engine: Engine
    where: str
    replayed: int | None = None
    error: str | None = None
    reads: int = 0


@dataclass
class ReplicaSet:
    """The replicas of one store and the routing counters."""

    replicas: Sequence[Replica]
    primary_reads: int = 0
    _turn: Iterator[int] = field(default_factory=lambda: itertools.count())
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, engines: Sequence[Engine]) -> ReplicaSet:
        """A set over these replica engines."""
        return cls([Replica(e, e.url.render_as_string(hide_password=True)) for e in engines])

    def _order(self) -> list[Replica]:
        with self._lock:
            start = next(self._turn) % len(self.replicas)
        return [*self.replicas[start:], *self.replicas[:start]]

    @contextmanager
    def connection(self, options: dict[str, Any]) -> Iterator[Connection | None]:
        """A connection to a replica that may serve this request's read, or ``None``: then the
        caller reads on the primary (no replica answers, or none has caught up)."""
        state = consistency.current.get()
        floor = state.floor if state is not None else None
        for replica in self._order():
            try:
                conn = replica.engine.connect()
            except sa_exc.DBAPIError as error:
                replica.error = str(error.orig).splitlines()[0]
                continue
            try:
                if options:
                    conn.execution_options(**options)
                replica.replayed = consistency.parse_position(str(conn.execute(_REPLAYED).scalar_one()))
                replica.error = None
            except sa_exc.DBAPIError as error:
                replica.error = str(error.orig).splitlines()[0]
                conn.close()
                continue
            if floor is not None and replica.replayed < floor:
                conn.close()
                continue
            replica.reads += 1
            try:
                yield conn
            finally:
                conn.close()
            return
        with self._lock:
            self.primary_reads += 1
        yield None

    def probe(self) -> None:
        """Ask every replica how far it has replayed (its connect timeout bounds the wait)."""
        for replica in self.replicas:
            try:
                with replica.engine.connect() as conn:
                    replica.replayed = consistency.parse_position(str(conn.execute(_REPLAYED).scalar_one()))
                replica.error = None
            except sa_exc.DBAPIError as error:
                replica.error = str(error.orig).splitlines()[0]

    def describe(self, primary_position: int | None) -> dict[str, Any]:
        """Routing and lag, for ``/health``: each replica's last replayed position and its lag
        behind ``primary_position`` in bytes, and how many reads went where."""
        replicas = []
        for replica in self.replicas:
            lag = None
            if primary_position is not None and replica.replayed is not None:
                lag = max(0, primary_position - replica.replayed)
            replicas.append(
                {
                    "url": replica.where,
                    "replayed": None
                    if replica.replayed is None
                    else consistency.format_position(replica.replayed),
                    "lag_bytes": lag,
                    "reads": replica.reads,
                    "error": replica.error,
                }
            )
        return {"replicas": replicas, "primary_reads": self.primary_reads}

    def dispose(self) -> None:
        """Close every replica's connections."""
        for replica in self.replicas:
            replica.engine.dispose()
