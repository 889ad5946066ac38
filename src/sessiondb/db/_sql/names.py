"""Keeping the name columns of a session row right, inside the transaction that writes it.

The name shown for a session (spec §4) is its explicit name, else the name derived from its
first naming run (team sessions skip member runs; workflow sessions count workflow runs only),
else, for a workflow, ``"New <workflow name> Session"``. The derived name is stored together
with the id of the run it came from, and is recomputed (one indexed read of the first naming
run) only when a write can change it:

- the session had no naming run yet;
- the naming run was replaced (its input may have changed, or it may no longer name the
  session) or deleted;
- another stored run was replaced and is now the first naming run (checked by reading only
  the first naming run's id: the usual rewrite of a later run reads no run data);
- a workflow session's stored name may be a ``"New <workflow name> Session"`` fallback for a
  workflow name it no longer has.

A plain append reads no run, so a write costs the same at run 10,000 as at run 1.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    Select,
    Table,
    Text,
    Update,
    bindparam,
    cast,
    func,
    select,
    update,
)

from sessiondb.db._sql.built_once import built_once
from sessiondb.db._sql.codec import decode_session_runs
from sessiondb.db._sql.compiled import fetch, fetch_one
from sessiondb.db._sql.tables import Tables
from sessiondb.db._tracking import first_naming_run
from sessiondb.session import SessionType
from sessiondb.session.naming import derive_name_from_run

SORT_KEY_CHARS = 256
"""How much of the shown name the indexed ``session_name`` column keeps. PostgreSQL cannot index
a key over about 2,700 bytes, and a name derived from a first message may be megabytes long;
256 characters (at most 1 KiB) leave room for the session id in the same index entry. The full
name stays in ``session_data`` (explicit) and in the runs (derived); ``name_search`` keeps it
all, so the name filter still matches past the cut."""

NAME_COLUMNS: tuple[str, ...] = (
    "explicit_name",
    "derived_name",
    "name_run_id",
    "session_name",
    "name_search",
)


@dataclass(frozen=True)
class Names:
    """What the name columns of one session row hold."""

    explicit: str | None
    derived: str
    run_id: str | None

    @property
    def shown(self) -> str:
        """The session name: the explicit one, else the derived one."""
        return self.explicit if self.explicit is not None else self.derived

    def columns(self) -> dict[str, Any]:
        """The values of :data:`NAME_COLUMNS`."""
        return {
            "explicit_name": self.explicit,
            "derived_name": self.derived,
            "name_run_id": self.run_id,
            "session_name": self.shown[:SORT_KEY_CHARS],
            # Lower-cased here rather than by the database, so the name filter folds case
            # exactly as Python (and InMemoryDb) does on every backend.
            "name_search": self.shown.lower(),
        }


WORKFLOW_NAME_KEY = "naming_workflow_name"
"""The key under which a write's returned row carries the workflow's name (see :func:`naming_columns`)."""


def naming_columns(sessions: Table) -> list[ColumnElement[Any]]:
    """What a write must return about its session row for :func:`settle_names`.

    The name columns, and the workflow's name as ``workflow_name_of`` reads it from a session
    object (the attribute, else ``workflow_data['name']``; empty counts as none), so that every
    write path, including the run methods that have no session object, names alike.
    """
    workflow_name = func.coalesce(
        func.nullif(sessions.c.workflow_name, ""), sessions.c.workflow_data["name"].as_string()
    )
    return [*(sessions.c[column] for column in NAME_COLUMNS), workflow_name.label(WORKFLOW_NAME_KEY)]


def _fallback_name(session_type: SessionType, workflow_name: str | None) -> str:
    return f"New {workflow_name} Session" if session_type == "workflow" and workflow_name else ""


def _derived_name(session_type: SessionType, first_run: Any | None, workflow_name: str | None) -> str:
    if first_run is None:
        return _fallback_name(session_type, workflow_name)
    return derive_name_from_run(session_type, first_run, workflow_name)


def _may_be_stale_fallback(derived: str, workflow_name: str | None) -> bool:
    """Whether a workflow session's derived name may be the fallback for another workflow name.

    A fallback is ``""`` or ``"New <name> Session"``; the stored name does not record whether
    it came from the fallback or from an input that reads the same, so a name of that shape
    that differs from the current fallback is recomputed. An input of that shape costs one
    extra read per write, never a wrong name.
    """
    if derived == _fallback_name("workflow", workflow_name):
        return False
    return derived == "" or (derived.startswith("New ") and derived.endswith(" Session"))


def _first_naming_statement(runs: Table, session_type: SessionType, data: bool) -> Select[Any]:
    """The read of the first naming run's id (or JSON text, ``data``) of ``:session_id``, built once."""
    statements: dict[tuple[str, bool], Select[Any]] = built_once(runs, "first_naming", dict)
    statement = statements.get((session_type, data))
    if statement is None:
        column = cast(runs.c.run_data, Text) if data else runs.c.run_id
        query = select(column).where(runs.c.session_id == bindparam("session_id"))
        if session_type == "team":
            # Team sessions are named by their own runs, never by a member's agent run.
            query = query.where(runs.c.agent_id.is_(None))
        elif session_type == "workflow":
            query = query.where(runs.c.run_type == "workflow")
        statement = statements[(session_type, data)] = query.order_by(runs.c.run_index).limit(1)
    return statement


def _first_naming(
    conn: Connection, tables: Tables, session_id: str, session_type: SessionType, data: bool
) -> Any:
    """The id (or JSON text, ``data``) of the session's first run that may name it, or ``None``.

    One read of the run index, through the driver cursor: replacing a stored run (a run saved
    again when it ends) sends it on every such write.
    """
    statement = _first_naming_statement(tables.runs, session_type, data)
    found = fetch_one(conn, statement, {"session_id": session_id})
    return found[0] if found is not None else None


def _first_naming_run(
    conn: Connection, tables: Tables, session_id: str, session_type: SessionType
) -> Any | None:
    text = _first_naming(conn, tables, session_id, session_type, data=True)
    if text is None:
        return None
    decoded = decode_session_runs(session_type, [text])
    return decoded[0] if decoded else None


def _needs_recompute(
    conn: Connection,
    tables: Tables,
    row: RowMapping | Mapping[str, Any],
    workflow_name: str | None,
    *,
    replaced: Collection[str],
    deleted: Collection[str],
) -> bool:
    session_id, session_type, run_id = row["session_id"], row["session_type"], row["name_run_id"]
    if run_id is None or run_id in replaced or run_id in deleted:
        return True
    if session_type == "workflow" and _may_be_stale_fallback(row["derived_name"], workflow_name):
        return True
    if not replaced:
        return False
    # Another stored run was replaced: it matters only if it now comes first among the runs
    # that may name the session. Asking for the first one's id alone spares reading and
    # decoding its data on the common rewrite of a later run (a run saved again when it ends).
    return bool(_first_naming(conn, tables, session_id, session_type, data=False) != run_id)


def settle_names(
    conn: Connection,
    tables: Tables,
    row: RowMapping | Mapping[str, Any],
    *,
    explicit: str | None,
    replaced: Collection[str] = (),
    deleted: Collection[str] = (),
    all_runs: Sequence[Any] | None = None,
) -> Names:
    """Bring the name columns of a just-written session row up to date.

    Args:
        conn: the connection of the write transaction (the session row is locked by it).
        tables: the store's tables.
        row: the session row as the write returned it, with :func:`naming_columns`.
        explicit: the explicit name the session has now.
        replaced: ids of runs that were already stored and that this transaction rewrote
            (runs it appended do not count).
        deleted: ids of the runs this transaction deleted.
        all_runs: when the caller knows them, the session's stored runs, in index order (a
            save of a session that had no run before); the first naming run is then taken
            from them instead of being read and decoded.

    Returns:
        The names now stored.
    """
    session_id, session_type = row["session_id"], row["session_type"]
    derived, run_id = row["derived_name"], row["name_run_id"]
    # SQLite's JSON extraction keeps a non-string name's type; the session object uses str().
    stored_workflow_name = row[WORKFLOW_NAME_KEY]
    workflow_name = str(stored_workflow_name) if stored_workflow_name else None
    if _needs_recompute(conn, tables, row, workflow_name, replaced=replaced, deleted=deleted):
        if all_runs is not None:
            first = first_naming_run(session_type, all_runs)
        else:
            first = _first_naming_run(conn, tables, session_id, session_type)
        derived = _derived_name(session_type, first, workflow_name)
        run_id = first.run_id if first is not None else None
    names = Names(explicit, derived, run_id)
    values = names.columns()
    if any(row[column] != values[column] for column in NAME_COLUMNS):
        fetch(conn, _name_update(tables.sessions), {**values, "target_id": session_id})
    return names


def _name_update(sessions: Table) -> Update:
    """The statement writing the name columns of ``:target_id``, built once per table."""
    return built_once(sessions, "name_update", lambda: _build_name_update(sessions))


def _build_name_update(sessions: Table) -> Update:
    values = {column: bindparam(column, type_=sessions.c[column].type) for column in NAME_COLUMNS}
    return update(sessions).where(sessions.c.session_id == bindparam("target_id")).values(values)
