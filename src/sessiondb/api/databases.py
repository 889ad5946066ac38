"""What a ``--db`` value names, and opening it: for reading (creates nothing) or for serving.

A value is a SQLite file path, ``sqlite:///path``, ``postgresql://...`` (``?schema=`` limits
the search to one schema) or ``memory``, optionally prefixed by ``id=``. The table sets in the
database are found by :func:`~sessiondb.db._sql.discovery.discover`, so sessions a program
stored under any ``session_table`` (and, on PostgreSQL, any ``db_schema``) are served and
listed without the user naming them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, create_engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from sessiondb.api.serve import parse_url, split_db_arg, store_from_url
from sessiondb.db._sql.discovery import TableSet, discover
from sessiondb.db._sql.errors import translated_errors
from sessiondb.db._sql.tables import DEFAULT_SESSION_TABLE, TableNames
from sessiondb.db._sqlite_file import database_path
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import DatabaseCorrupt
from sessiondb.db.postgres import DEFAULT_SCHEMA
from sessiondb.db.timeouts import Timeouts

SQLITE_HEADER = b"SQLite format 3\x00"
CONNECT_TIMEOUT_S = 5
"""How long finding the tables waits for a PostgreSQL server to answer."""


class CannotOpen(Exception):
    """A ``--db`` value cannot be opened as asked; the message says why and what to do."""


Backend = Literal["memory", "sqlite", "postgres"]


@dataclass(frozen=True)
class Target:
    """A parsed ``--db`` value.

    Attributes:
        db_id: the id given before ``=``, if any.
        url: the URL or path as given (it may hold a password: never print it).
        backend: which kind of store it names.
        path: the SQLite file (``None`` for memory and in-memory SQLite).
        schema: the PostgreSQL schema the URL's ``?schema=`` names, if any.
        shown: what messages and the banner print: the path, or the URL without its password.
        read_replicas: URLs of a PostgreSQL database's streaming replicas (``serve --read-replica``).
        timeouts: the bounds on the stores' waits (``serve --db-*-timeout``); ``None``: the defaults.
        options: what every store opened for it gets (``soft_delete``, ``changes_window``).
    """

    db_id: str | None
    url: str
    backend: Backend
    path: Path | None
    schema: str | None
    shown: str
    read_replicas: tuple[str, ...] = ()
    timeouts: Timeouts | None = None
    options: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def parse(cls, value: str) -> Target:
        """Parse a ``--db`` value.

        Raises:
            ValueError: the URL cannot be parsed or names an unsupported database.
        """
        db_id, url = split_db_arg(value)
        if url in ("memory", "memory://"):
            return cls(db_id, url, "memory", None, None, "memory")
        if "://" not in url:
            return cls(db_id, url, "sqlite", Path(url), None, url)
        parsed = parse_url(url)
        shown = parsed.render_as_string(hide_password=True)
        if parsed.get_backend_name() == "sqlite":
            # The file itself, also for a URI filename (``file:<path>?mode=ro``): its ``file:``
            # prefix taken for part of the path made a ``file:`` directory in the working one.
            path = None if "mode=memory" in url else database_path(parsed)
            return cls(db_id, url, "sqlite", path, None, str(path) if path else shown)
        schema = parsed.query.get("schema")
        return cls(db_id, url, "postgres", None, schema if isinstance(schema, str) else None, shown)

    def check_file(self, *, must_exist: bool) -> bool:
        """Whether the SQLite file exists; a file that is not a SQLite database is refused.

        Raises:
            CannotOpen: the file is missing and ``must_exist``, or it is not a SQLite database.
        """
        if self.path is None:
            return True
        if not self.path.exists():
            if must_exist:
                raise CannotOpen(f"no database at {self.path} (check the path; nothing was created)")
            return False
        try:
            with self.path.open("rb") as file:
                header = file.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise CannotOpen(f"cannot read {self.path}: {exc.strerror}") from exc
        # An empty file is a valid, empty SQLite database.
        if header and header != SQLITE_HEADER:
            raise CannotOpen(f"{self.path} is not a SQLite database (give the path of a sessiondb database)")
        return True

    def _engine(self) -> Engine:
        if self.backend == "sqlite":
            assert self.path is not None
            # Read-only: finding the tables must never create or change the file.
            return create_engine(f"sqlite:///file:{self.path}?mode=ro&uri=true", poolclass=NullPool)
        url = make_url(self.url).difference_update_query(["schema"]).set(drivername="postgresql+psycopg")
        return create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})

    def table_sets(self) -> list[TableSet]:
        """The sessiondb table sets in the database (none for memory); creates nothing.

        Raises:
            StoreUnavailable: the database cannot be reached.
            CannotOpen: the SQLite file is not a database.
        """
        if self.backend == "memory" or (self.backend == "sqlite" and self.path is None):
            return []
        engine = self._engine()
        try:
            with translated_errors(self.shown), engine.connect() as conn:
                return discover(conn, self.schema)
        except (sa_exc.DatabaseError, DatabaseCorrupt) as exc:
            # translated_errors makes SQLite's "file is not a database" a DatabaseCorrupt.
            if self.backend == "sqlite" and "not a database" in str(exc):
                raise CannotOpen(f"{self.shown} is not a SQLite database") from exc
            raise
        finally:
            engine.dispose()

    def default_names(self) -> TableNames:
        """Where a store made by ``serve`` or ``migrate`` puts its tables when there are none yet."""
        schema = (self.schema or DEFAULT_SCHEMA) if self.backend == "postgres" else None
        return TableNames.build(None, None, schema)

    def open(self, names: TableNames | None, *, auto_migrate: bool) -> SessionStore:
        """A store over the tables ``names`` (``None``: the default ones), with its read replicas."""
        return store_from_url(
            self.url,
            db_id=self.db_id,
            auto_migrate=auto_migrate,
            read_replicas=self.read_replicas,
            names=names,
            timeouts=self.timeouts,
            **self.options,
        )


def describe(sets: list[TableSet]) -> str:
    """``a, b`` for messages: the sets' qualified table names."""
    return ", ".join(table_set.qualified for table_set in sets)


def choose(target: Target, sets: list[TableSet], table: str | None) -> TableSet:
    """The one table set a read command works on.

    Raises:
        CannotOpen: no table set, ``table`` names none of them, or several and no ``table``.
    """
    if not sets:
        where = f" (schema {target.schema})" if target.schema else ""
        raise CannotOpen(
            f"no sessiondb tables in {target.shown}{where}; a program creates them on first use, "
            f"or run `sessiondb migrate --db {target.shown}`"
        )
    if table is not None:
        matching = [table_set for table_set in sets if table_set.matches(table)]
        if len(matching) == 1:
            return matching[0]
        problem = "several tables are" if matching else "no table is"
        raise CannotOpen(
            f"{problem} named {table!r} in {target.shown}; its session tables: {describe(matching or sets)}"
        )
    if len(sets) == 1:
        return sets[0]
    raise CannotOpen(
        f"{target.shown} holds several session tables ({describe(sets)}); choose one with --table"
    )


def open_for_reading(value: str, table: str | None = None, **options: Any) -> SessionStore:
    """The store of a read-only command: an existing database's tables, never created.

    ``options`` go to the store's constructor (``soft_delete``, ``changes_window``).

    Raises:
        ValueError: the value is not a supported database URL.
        CannotOpen: no database or no sessiondb tables there, several to choose from, or an
            older schema (which only ``migrate`` upgrades).
        StoreUnavailable: the database cannot be reached.
    """
    from sessiondb.db._sql.migrate import head_revision

    target = replace(Target.parse(value), options=options)
    if target.backend == "memory":
        raise CannotOpen("an in-memory database is empty in a new process: give a file or a PostgreSQL URL")
    target.check_file(must_exist=True)
    chosen = choose(target, target.table_sets(), table)
    head = head_revision()
    if chosen.revision != head:
        raise CannotOpen(
            f"table {chosen.qualified} in {target.shown} is at revision {chosen.revision}, this sessiondb "
            f"reads {head}: run `sessiondb migrate --db {target.shown}` (or use the matching sessiondb)"
        )
    return target.open(chosen.names, auto_migrate=False)


def open_for_writing(value: str, table: str | None = None, **options: Any) -> SessionStore:
    """The store of a command that writes (``import``, ``copy``'s target): created if missing.

    An existing database's tables are found as for reading (``table`` picks among several);
    without any, the default tables are created on first use. ``options`` go to the store's
    constructor (``soft_delete``, ``changes_window``).

    Raises:
        ValueError: the value is not a supported database URL.
        CannotOpen: the file is not a SQLite database, or several table sets and no ``table``.
        StoreUnavailable: the database cannot be reached.
    """
    target = replace(Target.parse(value), options=options)
    existed = target.check_file(must_exist=False)
    sets = target.table_sets() if existed else []
    if not sets:
        return target.open(None, auto_migrate=True)
    return target.open(choose(target, sets, table).names, auto_migrate=True)


def ordered(sets: list[TableSet]) -> list[TableSet]:
    """``sets`` with the default table first: requests that name no table get it."""
    return sorted(sets, key=lambda table_set: table_set.names.sessions != DEFAULT_SESSION_TABLE)
