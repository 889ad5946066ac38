"""Opening what ``serve`` serves: find each database's tables, migrate them, wait for one that is down.

Every table set a database holds is served (under the database's ``db_id``; the ``table``
parameter picks one, the default table first); a database with none gets the default set,
created now when ``auto_migrate`` is on. A PostgreSQL server that does not answer at start is
reported in one line and retried in the background: until it answers, its ``db_id`` is served
by a store that answers 503, and then by the stores of the tables found there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sessiondb.api.databases import Target, ordered
from sessiondb.api.registry import StoreRegistry
from sessiondb.db._sql.discovery import TableSet
from sessiondb.db._sql.migrate import head_revision
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import StoreError, StoreUnavailable
from sessiondb.db.timeouts import Timeouts

logger = logging.getLogger("sessiondb.serve")

RETRY_INTERVAL_S = 2.0
"""How often a database that did not answer at start is tried again."""


@dataclass
class ServedDatabase:
    """One ``--db`` value as served.

    Attributes:
        target: the parsed value.
        stores: the stores serving it (the default table first).
        sets: the table sets found there; ``None`` while the database does not answer.
        created: whether serving it created the SQLite file.
        every_store: each store ever opened for it (the first ones stay open for requests
            in flight when the tables are found later), closed by :meth:`close`.
    """

    target: Target
    stores: list[SessionStore]
    sets: list[TableSet] | None
    created: bool = False
    every_store: list[SessionStore] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def db_id(self) -> str:
        """The id its stores are served under."""
        return self.stores[0].id

    def close(self) -> None:
        """Stop waiting for the database and close every store opened for it."""
        self._stop.set()
        for store in self.every_store:
            store.close()


def _stores_for(target: Target, sets: list[TableSet], *, auto_migrate: bool) -> list[TableSet]:
    """Migrate what needs it (``auto_migrate``) and return the table sets as they are now."""
    head = head_revision()
    if not sets:
        if not auto_migrate:
            return []
        store = target.open(None, auto_migrate=True)
        try:
            store.migrate()
        finally:
            store.close()
        return target.table_sets()
    stale = [table_set for table_set in sets if table_set.revision != head]
    if stale and auto_migrate:
        for table_set in stale:
            store = target.open(table_set.names, auto_migrate=True)
            try:
                store.migrate()
            finally:
                store.close()
        return target.table_sets()
    return sets


def _open(target: Target, sets: list[TableSet], *, auto_migrate: bool) -> list[SessionStore]:
    if not sets:
        return [target.open(None, auto_migrate=auto_migrate)]
    return [target.open(table_set.names, auto_migrate=auto_migrate) for table_set in ordered(sets)]


def open_served(
    value: str,
    *,
    auto_migrate: bool,
    read_replicas: Sequence[str] = (),
    timeouts: Timeouts | None = None,
    options: Mapping[str, Any] | None = None,
) -> ServedDatabase:
    """Open a ``--db`` value for ``serve``: find, migrate (``auto_migrate``) and open its tables.

    Every store opened reads through ``read_replicas`` (PostgreSQL) too, waits for its
    database within ``timeouts`` (``None``: the defaults), and gets ``options``
    (``soft_delete``, ``changes_window``), the ones found later included.

    Raises:
        ValueError: the value is not a supported database URL, or has replicas and is not PostgreSQL.
        CannotOpen: the file is not a SQLite database.
        StoreError: the database refused the migration (permissions, a newer schema, ...), or
            a SQLite file cannot be opened.
    """
    target = replace(
        Target.parse(value),
        read_replicas=tuple(read_replicas),
        timeouts=timeouts,
        options=dict(options or {}),
    )
    if read_replicas and target.backend != "postgres":
        raise ValueError("read replicas (--read-replica) need a PostgreSQL database (--db postgresql://...)")
    existed = target.check_file(must_exist=False)
    if target.path is not None and not existed:
        target.path.parent.mkdir(parents=True, exist_ok=True)
    try:
        sets = target.table_sets() if existed else []
        sets = _stores_for(target, sets, auto_migrate=auto_migrate)
    except StoreUnavailable as exc:
        if target.backend != "postgres":
            raise
        summary = " ".join(str(exc).split())
        logger.warning("database %s does not answer (%s); answering 503 and retrying", target.shown, summary)
        stores = [target.open(None, auto_migrate=auto_migrate)]
        return ServedDatabase(target, stores, None, every_store=list(stores))
    stores = _open(target, sets, auto_migrate=auto_migrate)
    return ServedDatabase(target, stores, sets, created=not existed, every_store=list(stores))


def wait_for(
    served: ServedDatabase, registry: StoreRegistry, *, auto_migrate: bool
) -> threading.Thread | None:
    """Retry a database that did not answer at start until it does, then serve its tables.

    Returns:
        The daemon thread retrying (stopped by ``served.close()``), or ``None`` when the
        database answered at start.
    """
    if served.sets is not None:
        return None
    db_id = served.db_id

    def retry() -> None:
        while not served._stop.wait(RETRY_INTERVAL_S):
            try:
                sets = _stores_for(served.target, served.target.table_sets(), auto_migrate=auto_migrate)
            except StoreError:
                continue
            stores = _open(served.target, sets, auto_migrate=auto_migrate)
            if served._stop.is_set():
                for store in stores:
                    store.close()
                return
            served.every_store.extend(stores)
            served.sets = sets
            registry.replace(db_id, stores)
            tables = ", ".join(table_set.qualified for table_set in sets) or "none yet"
            logger.warning("database %s answers now; serving tables %s", served.target.shown, tables)
            return

    thread = threading.Thread(target=retry, name=f"sessiondb-wait-{db_id}", daemon=True)
    thread.start()
    return thread
