"""The write statements shared by the SQL backends: session row upsert and run row upsert.

Only the ``INSERT`` construct differs between dialects (``sqlalchemy.dialects.sqlite.insert``
or ``...postgresql.insert``; both speak ``ON CONFLICT``), so it is passed in. The statements
are built once per store with bound parameters: building an ``ON CONFLICT`` statement costs
more than running it.

Run indexes are assigned atomically: the session-row upsert adds the number of runs to write
to ``next_run_index`` and returns the new value (on PostgreSQL that row stays locked until
commit; SQLite writers are serialised by ``BEGIN IMMEDIATE``), and the runs take the indexes
just reserved. A run that is already stored keeps its index (``ON CONFLICT`` never updates
``run_index``), so delivering a run twice stores it once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Insert,
    Select,
    Table,
    Text,
    Update,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite

from sessiondb.db._sql.changes import ChangeLog
from sessiondb.db._sql.codec import run_columns, session_columns
from sessiondb.db._sql.compiled import fetch_mapping, fetch_one
from sessiondb.db._sql.names import Names, naming_columns, settle_names
from sessiondb.db._sql.row_guard import check_not_recreated, touch_owned
from sessiondb.db._sql.search import index_runs
from sessiondb.db._sql.tables import Tables, run_id_guard, run_write_columns
from sessiondb.db._sql.trash import refusal
from sessiondb.db._tracking import (
    encode_fields,
    encode_run,
    expects_stored_row,
    fields_unchanged,
    runs_to_write,
)
from sessiondb.db.errors import InvalidQuery, SessionNotFound
from sessiondb.run.workflow import AnyRun
from sessiondb.session import Session
from sessiondb.session.base import StoreToken

UpsertInsert = postgresql.Insert | sqlite.Insert
InsertFactory = Callable[[Table], UpsertInsert]
JsonTextBind = Callable[[BindParameter[str]], ColumnElement[Any]]
"""How a dialect stores JSON given as text: as it is (SQLite), or cast to JSONB (PostgreSQL)."""

# Columns a session upsert may change; session_type and created_at are never updated.
SESSION_UPDATE_COLUMNS: tuple[str, ...] = (
    "agent_id",
    "team_id",
    "workflow_id",
    "user_id",
    "workflow_name",
    "explicit_name",
    "session_data",
    "agent_data",
    "team_data",
    "workflow_data",
    "metadata",
    "summary",
)
# The session columns a write returns for the caller's object (settle_names adds its own).
RETURNED_COLUMNS: tuple[str, ...] = (
    "session_id",
    "session_type",
    "user_id",
    "version",
    "created_at",
    "updated_at",
    "next_run_index",
)


def _params(table: Table) -> dict[str, Any]:
    return {column.name: bindparam(column.name, type_=column.type) for column in table.c}


def _run_params(runs: Table, json_text: JsonTextBind) -> dict[str, Any]:
    # run_data is bound as the JSON text PreparedRun already made (it is also the loaded
    # state the session keeps), so the run is not encoded a second time by the JSON type.
    params = {column.name: bindparam(column.name, type_=column.type) for column in run_write_columns(runs)}
    lease = runs.c.lease_expires_at
    return {
        **params,
        "run_data": json_text(bindparam("run_data", type_=Text())),
        lease.name: bindparam(lease.name, type_=lease.type),
    }


def run_upsert(new_runs: UpsertInsert, runs: Table, key: Sequence[str]) -> Insert:
    """``new_runs`` (an ``INSERT`` into the runs table) as an upsert returning ``run_id, run_index``.

    ``key`` is the conflict target, :attr:`Tables.run_key`. A stored run is updated in place but
    keeps its ``run_index``; a run stored in another session is left where it is: on SQLite
    (key ``run_id``) the upsert returns nothing for it, on PostgreSQL (key ``session_id,
    run_id``) the run-id guard refuses it (see :func:`run_id_guarded`); the caller reports both.
    """
    excluded = new_runs.excluded
    # A rewrite keeps the run's place, and a cancel request made meanwhile (RUN_CONTROL_COLUMNS);
    # its lease too, unless the write brings one (the start of a run, ``upsert_run(lease_s=)``).
    changes: dict[str, Any] = {
        column.name: excluded[column.name] for column in run_write_columns(runs) if column.name != "run_index"
    }
    changes["lease_expires_at"] = func.coalesce(excluded.lease_expires_at, runs.c.lease_expires_at)
    return new_runs.on_conflict_do_update(
        index_elements=[runs.c[name] for name in key],
        set_=changes,
        where=runs.c.session_id == excluded.session_id,
    ).returning(runs.c.run_id, runs.c.run_index)


@dataclass(frozen=True)
class WriteStatements:
    """The write statements of one store, with bound parameters.

    Attributes:
        create_session: insert a session row, or nothing when the id is taken.
        upsert_session: insert or update a session row under the owner guard, adding
            ``:reserve`` to ``next_run_index``.
        upsert_run: insert or update a run row of ``:session_id``; returns its id and index
            (nothing for a run stored in another session). Executed with many parameter
            sets, SQLAlchemy sends it as multi-row ``INSERT``s ("insertmanyvalues").
        touch_session: bump a session's version and ``updated_at``, adding ``:reserve``.
        touch_owned: ``touch_session`` under the owner guard (``:owner``): the save of a
            session whose fields are unchanged (see :func:`save_session`).
        owner_of: the ``user_id`` of ``:target_id`` (why ``touch_owned`` found no row).
        run_id_guard: the name of the index that keeps a run id in one session on PostgreSQL,
            as the server reports it (see :func:`run_id_guarded`).
    """

    create_session: Insert
    upsert_session: Insert
    upsert_run: Insert
    touch_session: Update
    touch_owned: Update
    owner_of: Select[Any]
    run_id_guard: str

    @classmethod
    def build(cls, tables: Tables, insert: InsertFactory, json_text: JsonTextBind) -> WriteStatements:
        """Build the statements for ``tables`` with the dialect's ``insert`` and JSON-text binding."""
        sessions, runs = tables.sessions, tables.runs
        returned = [*(sessions.c[column] for column in RETURNED_COLUMNS), *naming_columns(sessions)]
        reserve = sessions.c.next_run_index + bindparam("reserve")
        new_session = insert(sessions).values(_params(sessions))
        create = new_session.on_conflict_do_nothing(index_elements=[sessions.c.session_id]).returning(
            *returned
        )
        excluded = new_session.excluded
        changes: dict[str, Any] = {column: excluded[column] for column in SESSION_UPDATE_COLUMNS}
        changes.update(updated_at=bindparam("now"), version=sessions.c.version + 1, next_run_index=reserve)
        # The owner guard (spec §3.2): only the owner, or anyone while it has none, may write.
        owner = or_(sessions.c.user_id == excluded.user_id, sessions.c.user_id.is_(None))
        # A session in the trash is not written over (see sessiondb.db._sql.trash).
        upsert = new_session.on_conflict_do_update(
            index_elements=[sessions.c.session_id],
            set_=changes,
            where=owner & sessions.c.deleted_at.is_(None),
        ).returning(*returned)
        upsert_run = run_upsert(insert(runs).values(_run_params(runs, json_text)), runs, tables.run_key)
        touch = (
            update(sessions)
            .where(sessions.c.session_id == bindparam("target_id"), sessions.c.deleted_at.is_(None))
            .values(updated_at=bindparam("now"), version=sessions.c.version + 1, next_run_index=reserve)
            .returning(*returned)
        )
        owned = or_(sessions.c.user_id == bindparam("owner", type_=Text()), sessions.c.user_id.is_(None))
        touch_owned = touch.where(owned)
        owner_of = select(sessions.c.user_id).where(sessions.c.session_id == bindparam("target_id"))
        # PostgreSQL cuts identifiers to 63 bytes (NAMEDATALEN - 1), and reports the cut name.
        guard = run_id_guard(tables.names).encode()[:63].decode(errors="ignore")
        return cls(create, upsert, upsert_run, touch, touch_owned, owner_of, guard)


@contextmanager
def run_id_guarded(statements: WriteStatements, session_id: str | None = None) -> Iterator[None]:
    """Report a run id the guard index refuses as SQLite's path reports it: ``InvalidQuery``.

    On PostgreSQL a run's key is ``(session_id, run_id)`` (migration 0009), so the upsert of a
    run stored in another session does not conflict on its key: it inserts, and the unique
    index on ``run_id`` alone refuses the row. The transaction is spoilt either way; the
    write fails as a whole, as it does on SQLite.

    Raises:
        InvalidQuery: the guard refused a run id.
    """
    try:
        yield
    except sa_exc.IntegrityError as error:
        diag = getattr(error.orig, "diag", None)
        if diag is None or diag.constraint_name != statements.run_id_guard:
            raise
        detail = diag.message_detail or str(error.orig)
        target = "" if session_id is None else f", not {session_id!r}"
        message = f"a run is stored in another session{target}: {detail}"
        raise InvalidQuery("run_id", message) from error


class PreparedRun:
    """A run ready to write: its column values and, made once, its JSON text.

    The text is usually made before the transaction, so that locks are held briefly. A bulk
    import of sessions that are all new defers it (``encode=False``) so that PostgreSQL's
    ``COPY`` can make each text while the server stores the ones before it (see
    :mod:`sessiondb.db._sql.copy`): nobody waits on rows that did not exist.
    """

    __slots__ = ("_text", "columns", "lease_until", "run", "run_id")

    def __init__(
        self, run: AnyRun, *, encode: bool = True, text: str | None = None, lease_until: int | None = None
    ) -> None:
        """Take ``run``'s column values, and its JSON text now when ``encode``.

        Args:
            text: the run's JSON text when the caller made it already.
            lease_until: the run's lease (``lease_expires_at``) to write with it; ``None``
                leaves a stored run's lease as it is (see :mod:`sessiondb.db.leases`).

        Raises:
            InvalidQuery: ``encode`` and the run cannot be encoded as JSON.
        """
        self.run = run
        self.run_id = run.run_id
        self.columns = run_columns(run)
        self.lease_until = lease_until
        self._text: str | None = text if text is not None else encode_run(run) if encode else None

    @property
    def text(self) -> str:
        """The run's JSON text (``run_data``), made on first use if it was deferred.

        Raises:
            InvalidQuery: the run cannot be encoded as JSON.
        """
        if self._text is None:
            self._text = encode_run(self.run)
        return self._text


@dataclass(frozen=True)
class PreparedSave:
    """Everything a session write needs, computed before the transaction so locks are held briefly.

    Attributes:
        fields: the session's fields as this store writes them (see ``fields_unchanged``).
        expects_row: the object was loaded from or saved to this store, so its row must
            still exist: a save that finds it gone raises ``SessionDeleted`` (see
            :func:`~sessiondb.db._sql.row_guard.check_not_recreated`).
        touch_only: the row is expected and its fields are what this store last wrote: the
            save bumps the row instead of rewriting it.
    """

    session: Session
    columns: dict[str, Any]
    runs: list[PreparedRun]
    fields: str
    preserve_updated_at: bool = False
    expects_row: bool = False
    touch_only: bool = False

    @classmethod
    def of(
        cls,
        session: Session,
        store: StoreToken,
        *,
        create: bool = False,
        encode_runs: bool = True,
        preserve_updated_at: bool = False,
    ) -> PreparedSave:
        """Serialise ``session``'s row and the runs a save into ``store`` must write (see ``runs_to_write``).

        Args:
            create: for ``create_session``: every run is written, no row is expected.
            encode_runs: make the runs' JSON texts now; ``False`` defers them to the write
                (see :class:`PreparedRun`).
            preserve_updated_at: a new row takes the session's ``updated_at`` (when set)
                rather than its ``created_at``.
        """
        texts: dict[str, str] = {}
        pending = runs_to_write(session, store, create=create, texts=texts)
        runs = [PreparedRun(run, encode=encode_runs, text=texts.get(run.run_id)) for run in pending]
        columns = session_columns(session)
        fields = encode_fields(columns)
        expects_row = not create and expects_stored_row(session, store)
        touch_only = not create and fields_unchanged(session, store, fields)
        return cls(session, columns, runs, fields, preserve_updated_at, expects_row, touch_only)


@dataclass(frozen=True)
class Saved:
    """What a session write produced; applied to the caller's object once the transaction commits."""

    session: Session
    version: int
    created_at: int
    updated_at: int
    written: dict[str, str]
    name: str
    fields: str
    replaced: tuple[str, ...] = ()
    """The written runs that were stored already (the rest are new)."""


def session_row_params(prepared: PreparedSave, names: Names, *, now: int) -> dict[str, Any]:
    """The values a session-row upsert binds: the row as new (version 1, created now unless the
    session says when, updated then unless ``preserve_updated_at`` and the session says when),
    with ``names`` in the naming columns and ``:reserve`` its run count."""
    session, count = prepared.session, len(prepared.runs)
    created_at = session.created_at if session.created_at is not None else now
    updated_at = created_at
    if prepared.preserve_updated_at and session.updated_at is not None:
        updated_at = session.updated_at
    return {
        **prepared.columns,
        **names.columns(),
        "created_at": created_at,
        "updated_at": updated_at,
        "version": 1,
        "next_run_index": count,
        "deleted_at": None,  # a new row is live; an update never sets it (the trash is not written over)
        "reserve": count,
        "now": now,
    }


def save_session(
    conn: Connection,
    tables: Tables,
    statements: WriteStatements,
    prepared: PreparedSave,
    *,
    create: bool,
    now: int,
) -> Saved:
    """Write a session's row and its new or changed runs (one row each).

    Args:
        create: insert only; an existing row is an error rather than updated.

    Raises:
        SessionAlreadyExists: ``create`` and the id is taken.
        SessionOwnedByAnotherUser: the stored row has another non-null ``user_id``.
        SessionInTrash: the session is in the trash.
        SessionDeleted: the object's stored row was deleted since it was loaded or saved.
        InvalidQuery: a run's id is stored in another session.
    """
    session, columns, count = prepared.session, prepared.columns, len(prepared.runs)
    # A new row starts unnamed by runs; settle_names fills in the derived name.
    params = session_row_params(prepared, Names(columns["explicit_name"], "", None), now=now)
    if prepared.touch_only:
        row = touch_owned(conn, statements, session.session_id, session.user_id, now=now, reserve=count)
    else:
        statement = statements.create_session if create else statements.upsert_session
        # Through the driver cursor: every save of the seeds' pattern sends it.
        row = fetch_mapping(conn, statement, params)
    if row is None:
        raise refusal(conn, tables, session.session_id, create=create)
    check_not_recreated(prepared, row)
    first_index = row["next_run_index"] - count
    indexes = write_runs(
        conn, statements, session.session_id, prepared.runs, first_index=first_index, now=now
    )
    index_runs(conn, tables, [(session.session_id, run.run) for run in prepared.runs])
    replaced = replaced_runs(indexes, first_index)
    # A session whose run indexes start at 0 here never had a run stored before this save:
    # its runs are exactly the ones just written, so naming needs no read.
    all_runs = [run.run for run in prepared.runs] if first_index == 0 else None
    names = settle_names(
        conn, tables, row, explicit=columns["explicit_name"], replaced=replaced, all_runs=all_runs
    )
    written = {run.run_id: run.text for run in prepared.runs}
    return Saved(
        session,
        row["version"],
        row["created_at"],
        row["updated_at"],
        written,
        names.shown,
        prepared.fields,
        tuple(replaced),
    )


def run_row(run: PreparedRun, session_id: str, *, index: int, now: int) -> dict[str, Any]:
    """The values a run-row upsert binds: ``run`` in session ``session_id``, new at ``index``."""
    return {
        **run.columns,
        "run_data": run.text,
        "session_id": session_id,
        "run_index": index,
        "updated_at": now,
        "lease_expires_at": run.lease_until,
    }


def stored_indexes(session_id: str, runs: Sequence[PreparedRun], stored: Mapping[str, int]) -> dict[str, int]:
    """``run_id`` → stored index of each of ``runs``, from the ``(run_id, run_index)`` an upsert returned.

    Raises:
        InvalidQuery: a run the upsert returned nothing for: it is stored in another session
            (and was left there).
    """
    indexes: dict[str, int] = {}
    for run in runs:
        index = stored.get(run.run_id)
        if index is None:
            message = f"run {run.run_id!r} is stored in another session, not {session_id!r}"
            raise InvalidQuery("run_id", message)
        indexes[run.run_id] = index
    return indexes


def write_runs(
    conn: Connection,
    statements: WriteStatements,
    session_id: str,
    runs: Sequence[PreparedRun],
    *,
    first_index: int,
    now: int,
) -> dict[str, int]:
    """Upsert ``runs`` into session ``session_id``, new ones at ``first_index``, ``first_index + 1``, ...

    The caller must have reserved those indexes (see the module docstring).

    Returns:
        ``run_id`` → the run's stored index.

    Raises:
        InvalidQuery: a run's id is stored in another session; it is never moved.
    """
    if len(runs) > 1 and len({run.run_id for run in runs}) == len(runs):
        # One round trip per batch of rows instead of one per run (bulk imports, big saves).
        # A run id twice in one batch would make one multi-row upsert touch a row twice, which
        # PostgreSQL refuses, so such a list takes the one-by-one path below.
        rows = [
            run_row(run, session_id, index=first_index + offset, now=now) for offset, run in enumerate(runs)
        ]
        with run_id_guarded(statements, session_id):
            stored = {run_id: index for run_id, index in conn.execute(statements.upsert_run, rows)}
        return stored_indexes(session_id, runs, stored)
    return {
        run.run_id: upsert_one_run(conn, statements, session_id, run, index=first_index + offset, now=now)
        for offset, run in enumerate(runs)
    }


def replaced_runs(indexes: dict[str, int], first_index: int) -> list[str]:
    """The runs of a :func:`write_runs` result that were already stored, and so were replaced.

    A new run takes the index reserved for it (``first_index`` + its position); a stored run
    keeps its own, which is always lower than any index just reserved.
    """
    return [run_id for offset, (run_id, index) in enumerate(indexes.items()) if index != first_index + offset]


def touch_session(
    conn: Connection, statements: WriteStatements, session_id: str, *, now: int, reserve: int = 0
) -> dict[str, Any]:
    """Bump a session's version and ``updated_at`` (locking its row), reserving ``reserve`` run indexes.

    Runs through the driver cursor (:mod:`sessiondb.db._sql.compiled`): every append sends it.

    Returns:
        The returned columns by name.

    Raises:
        SessionNotFound: no such session.
    """
    params = {"target_id": session_id, "now": now, "reserve": reserve}
    row = fetch_mapping(conn, statements.touch_session, params)
    if row is None:
        raise SessionNotFound(session_id)
    return row


def upsert_one_run(
    conn: Connection, statements: WriteStatements, session_id: str, run: PreparedRun, *, index: int, now: int
) -> int:
    """Upsert one run into session ``session_id`` (a new run at ``index``, reserved by the caller).

    Run through the driver cursor: this is the append every agent turn makes.

    Returns:
        The run's stored index: ``index`` for a new run, its own for a replaced one.

    Raises:
        InvalidQuery: the run's id is stored in another session; it is never moved.
    """
    with run_id_guarded(statements, session_id):
        found = fetch_one(conn, statements.upsert_run, run_row(run, session_id, index=index, now=now))
    stored = {found[0]: found[1]} if found is not None else {}
    return stored_indexes(session_id, [run], stored)[run.run_id]


def append_run(
    conn: Connection,
    tables: Tables,
    statements: WriteStatements,
    session_id: str,
    run: PreparedRun,
    now: int,
    log: ChangeLog | None = None,
) -> int:
    """Store one run in a stored session (append it, or replace the run with its id); returns its index.

    Raises:
        SessionNotFound: no such session.
        InvalidQuery: the run's id is stored in another session.
    """
    row = touch_session(conn, statements, session_id, now=now, reserve=1)
    reserved = row["next_run_index"] - 1
    index = upsert_one_run(conn, statements, session_id, run, index=reserved, now=now)
    index_runs(conn, tables, [(session_id, run.run)])
    # A stored run keeps its own index, always lower than the one just reserved.
    replaced = [run.run_id] if index != reserved else []
    settle_names(conn, tables, row, explicit=row["explicit_name"], replaced=replaced)
    if log is not None:
        log.add("run.updated" if replaced else "run.created", row, run_id=run.run_id)
    return index
