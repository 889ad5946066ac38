"""How long a store waits on its database, at most, for each kind of wait.

Every wait a SQL store makes is bounded; one that runs out raises
:class:`~sessiondb.db.errors.StoreUnavailable` (a 503 with ``Retry-After`` over HTTP), never
hangs and never surfaces as an unplanned error. ``docs/reliability.md`` lists each bound and
what a client sees when it runs out.

The bounds apply to the connections a store opens itself; a store given an engine
(``db_engine=``) uses that engine's settings, and only its pool checkout is translated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

DEFAULT_CONNECT_S = 5.0
DEFAULT_POOL_S = 10.0
DEFAULT_LOCK_S = 5.0
"""PostgreSQL's lock bound. SQLite's is :data:`SQLITE_DEFAULT_LOCK_S`: it waits for a write lock
that a writer holds for milliseconds, so a long wait means a busy machine, not a stuck row."""
SQLITE_DEFAULT_LOCK_S = 30.0
DEFAULT_STATEMENT_S = 30.0


@dataclass(frozen=True, kw_only=True)
class Timeouts:
    """The bounds, in seconds, on a store's waits for its database.

    Attributes:
        connect_s: opening a connection, TLS and authentication included (PostgreSQL's
            ``connect_timeout``, rounded up to whole seconds, at least 2, as libpq takes it).
        pool_s: waiting for a pooled connection when every one is in use. Longer than
            ``lock_s`` by default, so that calls queued behind a locked row give up (and
            free their connections) before calls for other sessions waiting for one do.
        lock_s: waiting for a row or table lock another transaction holds (PostgreSQL's
            ``lock_timeout``), or for SQLite's write lock (its busy timeout); ``None``: the
            backend's default (:data:`DEFAULT_LOCK_S`, :data:`SQLITE_DEFAULT_LOCK_S`).
        statement_s: one call's statements (PostgreSQL's ``statement_timeout``). The client
            also stops waiting on a connection that stays silent for one second longer (a
            black-holed network, a frozen server): it shuts the socket down, and the pool
            replaces the connection.
    """

    connect_s: float = DEFAULT_CONNECT_S
    pool_s: float = DEFAULT_POOL_S
    lock_s: float | None = None
    statement_s: float = DEFAULT_STATEMENT_S

    def __post_init__(self) -> None:
        """Refuse a bound that is not a positive, finite number of seconds.

        Raises:
            ValueError: a bound is zero, negative, infinite or not a number.
        """
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None and field.name == "lock_s":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
                raise ValueError(f"{field.name} must be a positive number of seconds, not {value!r}")

    def lock_or(self, default: float) -> float:
        """``lock_s``, or the backend's ``default`` when it is ``None``."""
        return default if self.lock_s is None else self.lock_s

    @property
    def call_deadline_s(self) -> float:
        """How long the client waits on a silent connection during one call (see ``statement_s``)."""
        return self.statement_s + 1.0

    def milliseconds(self, seconds: float) -> int:
        """``seconds`` as whole milliseconds, at least 1 (what PostgreSQL's settings take)."""
        return max(1, math.ceil(seconds * 1000))
