"""Saving many sessions in one transaction with a few statements, whatever the batch size.

:func:`save_sessions` does what :func:`~sessiondb.db._sql.writes.save_session` does for each
session of a batch, with the same results and errors, but writes every session row with one
upsert and every run row with one more, instead of one of each per session:

- Session rows on PostgreSQL: ``INSERT ... SELECT ... FROM jsonb_to_recordset(:rows) ...
  ON CONFLICT ... RETURNING``, the rows bound as one JSON text. Its SQL is the same for any
  batch, so it is compiled once; the driver sends one string, where a multi-row ``VALUES``
  list is re-parsed by psycopg for every batch (~1 ms per 20 rows) and an array per column
  is escaped element by element in Python.
- Session rows on SQLite (in process, so round trips cost little): one upsert per row.
- Runs of sessions that had none stored, on PostgreSQL: one binary ``COPY``
  (:mod:`sessiondb.db._sql.copy`), as they cannot meet a stored run of their own session.
- Other runs, on both: the one-run upsert executed for every run of the batch at once
  (:func:`~sessiondb.db._sql.compiled.fetch_each`: pipelined by psycopg; SQLAlchemy's
  multi-row "insertmanyvalues" on SQLite). For the runs' 2 KB JSON texts this beat the
  ``jsonb_to_recordset`` statement, whose one large JSON document the server must parse.

A new session row is inserted with the names its runs give it (computed from the runs in
memory, as :func:`settle_names` would), so naming a batch of new sessions costs no statement.

What stays as in the one-by-one path: rows are written in session-id order (the lock order of
every batch writer); the owner guard refuses a session with another owner; a run id stored in
another session is refused; run indexes are reserved on the session row; ``settle_names`` has
the last word on every session's names. A batch holding one session id twice, or one run id
twice, takes the one-by-one path: one multi-row upsert may not touch a row twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    Insert,
    Integer,
    Table,
    Text,
    bindparam,
    cast,
    column,
    func,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

from sessiondb.db._sql.built_once import built_once
from sessiondb.db._sql.codec import dumps
from sessiondb.db._sql.compiled import fetch_each
from sessiondb.db._sql.copy import can_copy, copy_runs, stored_ids
from sessiondb.db._sql.names import Names, naming_columns, settle_names
from sessiondb.db._sql.row_guard import check_not_recreated
from sessiondb.db._sql.search import index_runs
from sessiondb.db._sql.tables import Tables
from sessiondb.db._sql.trash import refusal
from sessiondb.db._sql.writes import (
    RETURNED_COLUMNS,
    SESSION_UPDATE_COLUMNS,
    PreparedRun,
    PreparedSave,
    Saved,
    WriteStatements,
    replaced_runs,
    run_id_guarded,
    run_row,
    save_session,
    session_row_params,
    stored_indexes,
)
from sessiondb.db._tracking import first_naming_run, workflow_name_of
from sessiondb.session.naming import derive_name_from_run


@dataclass(frozen=True)
class RecordStatements:
    """PostgreSQL's batch upsert of session rows, given as one JSON text (see the module docstring).

    Attributes:
        upsert_sessions: insert or update session rows under the owner guard; an updated row
            gets ``updated_at = :now`` and adds the row's ``next_run_index`` (the number of runs
            to write) to its own. Returns the written rows; a refused one is missing.
    """

    upsert_sessions: Insert

    @classmethod
    def build(cls, tables: Tables) -> RecordStatements:
        """Build the statement for ``tables``."""
        sessions = tables.sessions
        new_sessions = _insert_records(sessions)
        excluded = new_sessions.excluded
        changes: dict[str, Any] = {column: excluded[column] for column in SESSION_UPDATE_COLUMNS}
        changes.update(
            updated_at=bindparam("now", type_=BigInteger()),
            version=sessions.c.version + 1,
            next_run_index=sessions.c.next_run_index + excluded.next_run_index,
        )
        # The owner guard (spec §3.2): only the owner, or anyone while it has none, may write.
        owner = or_(sessions.c.user_id == excluded.user_id, sessions.c.user_id.is_(None))
        # A session in the trash is not written over (see sessiondb.db._sql.trash).
        upsert_sessions = new_sessions.on_conflict_do_update(
            index_elements=[sessions.c.session_id],
            set_=changes,
            where=owner & sessions.c.deleted_at.is_(None),
        ).returning(*(sessions.c[column] for column in RETURNED_COLUMNS), *naming_columns(sessions))
        return cls(upsert_sessions)


def _insert_records(table: Table) -> postgresql.Insert:
    """``INSERT INTO table (...) SELECT ... FROM jsonb_to_recordset(:rows)``: rows as one JSON text.

    One text parameter whatever the batch size: the driver sends it as it is, where an array
    per column would be escaped element by element, and the statement's SQL never changes.
    JSON columns arrive as JSON values inside the rows (a JSON ``null`` is SQL ``NULL``).
    """
    # jsonb_to_recordset measured ~15% faster than json_to_recordset here: the JSONB column
    # values are taken from the parsed document instead of being parsed a second time.
    records = func.jsonb_to_recordset(cast(bindparam("rows", type_=Text()), JSONB())).table_valued(
        *(column(c.name, _record_type(c.type)) for c in table.c)
    )
    rows = records.render_derived(with_types=True)
    names = [c.name for c in table.c]
    return postgresql.insert(table).from_select(names, select(*(rows.c[name] for name in names)))


def _record_type(column_type: Any) -> TypeEngine[Any]:
    if isinstance(column_type, JSON):
        return JSONB()
    return BigInteger() if isinstance(column_type, Integer) else Text()


def record_statements(tables: Tables) -> RecordStatements:
    """The :class:`RecordStatements` of ``tables``, built once per store's tables."""
    return built_once(tables.sessions, "record_statements", lambda: RecordStatements.build(tables))


def save_sessions(
    conn: Connection,
    tables: Tables,
    statements: WriteStatements,
    batch: Sequence[PreparedSave],
    *,
    now: int,
) -> list[Saved]:
    """Upsert every session of ``batch`` (sorted by session id) and its new or changed runs.

    When several sessions fail, the error is the one of the first in ``batch`` order, as when
    the sessions are saved one by one; the caller's transaction then rolls everything back.

    Returns:
        What each save produced, in ``batch`` order, to apply once the transaction commits.

    Raises:
        SessionOwnedByAnotherUser: a stored row has another non-null ``user_id``.
        SessionDeleted: a session's stored row was deleted since the object was loaded or saved.
        InvalidQuery: a run's id is stored in another session, or a value cannot be stored.
    """
    if _has_duplicates(batch):
        return [save_session(conn, tables, statements, prepared, create=False, now=now) for prepared in batch]
    session_params = [_session_params(prepared, now) for prepared in batch]
    if conn.dialect.name == "postgresql":
        records = {"rows": _records(tables.sessions, session_params), "now": now}
        written = conn.execute(record_statements(tables).upsert_sessions, records).mappings().all()
        rows = {row["session_id"]: row for row in written}
    else:
        rows = {}
        for params in session_params:
            row = conn.execute(statements.upsert_session, params).mappings().one_or_none()
            if row is None:
                break  # refused: the batch fails, later sessions need not be written
            rows[row["session_id"]] = row
    # Past a refused session the batch fails anyway: its runs, and later ones, are not written.
    accepted = []
    for prepared in batch:
        if prepared.session.session_id not in rows:
            break
        accepted.append(prepared)
    first_indexes = {
        prepared.session.session_id: rows[prepared.session.session_id]["next_run_index"] - len(prepared.runs)
        for prepared in accepted
    }
    stored = _write_runs(conn, tables, statements, accepted, first_indexes, now)
    index_runs(conn, tables, [(p.session.session_id, run.run) for p in accepted for run in p.runs])
    return [_settle(conn, tables, prepared, rows, first_indexes, stored) for prepared in batch]


def _has_duplicates(batch: Sequence[PreparedSave]) -> bool:
    session_ids = {prepared.session.session_id for prepared in batch}
    run_ids = {run.run_id for prepared in batch for run in prepared.runs}
    return len(session_ids) < len(batch) or len(run_ids) < sum(len(prepared.runs) for prepared in batch)


def _session_params(prepared: PreparedSave, now: int) -> dict[str, Any]:
    """The session row's values, as ``save_session`` binds them, with a new row's names."""
    return session_row_params(prepared, _new_row_names(prepared), now=now)


def _new_row_names(prepared: PreparedSave) -> Names:
    """The names the row gets if it is new, when its runs are exactly the ones written now.

    They are used only by an insert: an existing row keeps its derived name, and
    ``settle_names`` then checks both cases against the row the database returns.
    """
    session = prepared.session
    explicit = prepared.columns["explicit_name"]
    first = first_naming_run(session.session_type, [run.run for run in prepared.runs])
    workflow_name = workflow_name_of(session)
    if first is not None:
        return Names(explicit, derive_name_from_run(session.session_type, first, workflow_name), first.run_id)
    fallback = f"New {workflow_name} Session" if session.session_type == "workflow" and workflow_name else ""
    return Names(explicit, fallback, None)


def _records(table: Table, rows: Sequence[Mapping[str, Any]]) -> str:
    """``rows`` as the JSON text a :class:`RecordStatements` statement reads (``:rows``).

    Each JSON value is encoded on its own with the engine's serialiser, exactly as the one-row
    statements encode it (same key handling, same nesting limit), and embedded as it is.
    """
    json_columns = [c.name for c in table.c if isinstance(c.type, JSON)]
    records = []
    for row in rows:
        record = {c.name: row[c.name] for c in table.c}
        for name in json_columns:
            value = record[name]
            if value is not None:
                record[name] = orjson.Fragment(dumps(value))
        records.append(record)
    return dumps(records)


def _write_runs(
    conn: Connection,
    tables: Tables,
    statements: WriteStatements,
    accepted: Sequence[PreparedSave],
    first_indexes: Mapping[str, int],
    now: int,
) -> dict[str, int]:
    """Write the runs of the ``accepted`` sessions in one batch; ``run_id`` → stored index.

    The runs of sessions that had none stored go through ``COPY`` where it may be used (see
    :mod:`sessiondb.db._sql.copy`); every other run through the pipelined run upsert.
    """
    placed = [
        (run, prepared.session.session_id, first_indexes[prepared.session.session_id] + offset)
        for prepared in accepted
        for offset, run in enumerate(prepared.runs)
    ]
    fresh: list[tuple[PreparedRun, str, int]] = []
    if can_copy(conn):
        fresh = [
            (run, session_id, index) for run, session_id, index in placed if first_indexes[session_id] == 0
        ]
        if stored_ids(conn, tables.runs.c.run_id, [run.run_id for run, _, _ in fresh]):
            fresh = []  # a run of another session: the upsert path reports it as one by one would
    if fresh:
        # Rows are made as COPY takes them, so a deferred text is encoded while the server
        # stores the rows before it.
        copy_runs(
            conn,
            tables.runs,
            (run_row(run, session_id, index=index, now=now) for run, session_id, index in fresh),
        )
    copied = {run.run_id: index for run, _, index in fresh}
    rest = [
        run_row(run, session_id, index=index, now=now)
        for run, session_id, index in placed
        if run.run_id not in copied
    ]
    with run_id_guarded(statements):
        stored = {run_id: index for run_id, index in fetch_each(conn, statements.upsert_run, rest)}
    return {**copied, **stored}


def _settle(
    conn: Connection,
    tables: Tables,
    prepared: PreparedSave,
    rows: Mapping[str, Any],
    first_indexes: Mapping[str, int],
    stored: Mapping[str, int],
) -> Saved:
    """Check one session's outcome, settle its names, and say what to apply after the commit.

    Raises:
        SessionOwnedByAnotherUser: its row was refused.
        SessionDeleted: its stored row was deleted since the object was loaded or saved.
        InvalidQuery: one of its runs is stored in another session.
    """
    session_id = prepared.session.session_id
    row = rows.get(session_id)
    if row is None:
        raise refusal(conn, tables, session_id, create=False)
    check_not_recreated(prepared, row)
    indexes = stored_indexes(session_id, prepared.runs, stored)
    first_index = first_indexes[session_id]
    # A session whose run indexes start at 0 here never had a run stored before this save:
    # its runs are exactly the ones just written, so naming needs no read.
    all_runs = [run.run for run in prepared.runs] if first_index == 0 else None
    names = settle_names(
        conn,
        tables,
        row,
        explicit=prepared.columns["explicit_name"],
        replaced=list(replaced_runs(indexes, first_index)),
        all_runs=all_runs,
    )
    written = {run.run_id: run.text for run in prepared.runs}
    replaced = tuple(replaced_runs(indexes, first_index))
    return Saved(
        prepared.session,
        row["version"],
        row["created_at"],
        row["updated_at"],
        written,
        names.shown,
        prepared.fields,
        replaced,
    )
