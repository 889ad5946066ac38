"""Forking a session inside the database: one ``INSERT ... SELECT`` copies its runs.

The copy never brings a run to Python. Each copied run gets a fresh id made in SQL from a
per-fork random prefix and its run index (``<24 chars of a uuid4><index as 12 hex digits>``,
still a UUID's shape), so the id of any run's copy is known from its index alone: a member
run's ``parent_run_id`` is remapped by a join to its parent, and the payload is rewritten by the
engine's JSON functions (``run_id``, ``session_id``, ``parent_run_id``, the
``forked_from_session_id`` lineage, and the ids inside a team run's ``member_responses``).
Runs keep their indexes, so the copy keeps the source's order.

Which runs: all of them, or those whose *root* (the top-level run above them, found by a
recursive CTE over ``parent_run_id``) comes at or before the run the fork is cut at, so member
runs follow their team run even when they were stored after it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, text

from sessiondb.db._sql.changes import ChangeLog
from sessiondb.db._sql.names import naming_columns, settle_names
from sessiondb.db._sql.tables import Tables
from sessiondb.db._sql.trash import refusal
from sessiondb.db._sql.writes import UpsertInsert
from sessiondb.db.errors import RunNotFound

InsertFactory = Callable[[Table], UpsertInsert]

FORKED_FROM_SESSION = "forked_from_session_id"
FORKED_FROM_RUN = "forked_from_run_id"
"""The ``session_data`` keys recording where a fork came from (Agno 3.x writes the first)."""


@dataclass(frozen=True)
class _Dialect:
    new_id: Callable[[str], str]
    """SQL for the copy's id of the run at index ``expr``."""
    rewrite: Callable[[str, str], str]
    """SQL for the rewritten payload of run alias ``r`` with parent alias ``p`` (and its data)."""
    bind: Callable[[str], str]
    """A bound text parameter (PostgreSQL must be told its type where it is used twice)."""
    lateral: str = ""
    """What the ``FROM`` adds for the rewrite (PostgreSQL: the payload parsed once, as ``j.doc``)."""


def _sqlite_new_id(index: str) -> str:
    return f"(:prefix || printf('%012x', {index}))"


def _sqlite_rewrite(runs: str, parent_new_id: str) -> str:
    data = "r.run_data"
    base = (
        f"json_set(json_insert({data}, '$.forked_from_session_id', :source), "
        f"'$.run_id', {_sqlite_new_id('r.run_index')}, '$.session_id', :target)"
    )
    member = (
        "json_set(m.value, "
        f"'$.run_id', COALESCE({_sqlite_new_id('mr.run_index')}, m.value ->> '$.run_id'), "
        "'$.session_id', :target, "
        "'$.forked_from_session_id', COALESCE(m.value ->> '$.forked_from_session_id', :source))"
    )
    member = (
        f"CASE WHEN m.value ->> '$.parent_run_id' = r.run_id "
        f"THEN json_set({member}, '$.parent_run_id', {_sqlite_new_id('r.run_index')}) ELSE {member} END"
    )
    members = (
        f"(SELECT json_group_array(json({member})) FROM json_each({data}, '$.member_responses') AS m "
        f"LEFT JOIN {runs} AS mr ON mr.session_id = :source AND mr.run_id = m.value ->> '$.run_id')"
    )
    with_members = (
        f"CASE WHEN json_type({data}, '$.member_responses') = 'array' "
        f"THEN json_set({base}, '$.member_responses', json({members})) ELSE {base} END"
    )
    return (
        f"CASE WHEN p.run_index IS NULL THEN {with_members} "
        f"ELSE json_set({with_members}, '$.parent_run_id', {parent_new_id}) END"
    )


def _pg_new_id(index: str) -> str:
    return f"(CAST(:prefix AS TEXT) || lpad(to_hex({index}), 12, '0'))"


def _pg_rewrite(runs: str, parent_new_id: str) -> str:
    # json, not jsonb, is stored (see tables.payload_json_type): converted for the edit only,
    # once per row (the LATERAL j.doc, kept unflattened by its OFFSET 0: see _DIALECTS).
    data = "j.doc"
    target, source = "CAST(:target AS TEXT)", "CAST(:source AS TEXT)"
    ids = (
        f"jsonb_build_object('run_id', {_pg_new_id('r.run_index')}, 'session_id', {target}, "
        f"'forked_from_session_id', COALESCE({data} ->> 'forked_from_session_id', {source}))"
    )
    parent = (
        f"CASE WHEN p.run_index IS NULL THEN '{{}}'::jsonb "
        f"ELSE jsonb_build_object('parent_run_id', {parent_new_id}) END"
    )
    member = (
        f"m.value || jsonb_build_object("
        f"'run_id', COALESCE({_pg_new_id('mr.run_index')}, m.value ->> 'run_id'), 'session_id', {target}, "
        f"'forked_from_session_id', COALESCE(m.value ->> 'forked_from_session_id', {source})) || "
        f"CASE WHEN m.value ->> 'parent_run_id' = r.run_id "
        f"THEN jsonb_build_object('parent_run_id', {_pg_new_id('r.run_index')}) ELSE '{{}}'::jsonb END"
    )
    members = (
        f"CASE WHEN jsonb_typeof({data} -> 'member_responses') = 'array' THEN jsonb_build_object("
        f"'member_responses', COALESCE((SELECT jsonb_agg({member} ORDER BY m.position) "
        f"FROM jsonb_array_elements({data} -> 'member_responses') WITH ORDINALITY AS m(value, position) "
        f"LEFT JOIN {runs} AS mr ON mr.session_id = {source} AND mr.run_id = m.value ->> 'run_id'), "
        "'[]'::jsonb)) ELSE '{}'::jsonb END"
    )
    # The small objects are merged first, then once into the payload: each ``||`` with the
    # payload copies all of it (three copies cost a third of the fork's time).
    return f"CAST({data} || ({ids} || {parent} || {members}) AS JSON)"


_DIALECTS = {
    "sqlite": _Dialect(_sqlite_new_id, _sqlite_rewrite, lambda name: f":{name}"),
    "postgresql": _Dialect(
        _pg_new_id,
        _pg_rewrite,
        lambda name: f"CAST(:{name} AS TEXT)",
        # OFFSET 0 keeps the planner from flattening the subquery, which put the cast back at
        # each of its three uses (EXPLAIN VERBOSE): the payload was parsed three times a row.
        "CROSS JOIN LATERAL (SELECT CAST(r.run_data AS JSONB) AS doc OFFSET 0) AS j ",
    ),
}

_COPIED_COLUMNS = "run_type, agent_id, team_id, workflow_id, user_id, status, created_at, updated_at"


def _roots(runs: str, dialect: _Dialect) -> str:
    """A recursive CTE ``tree(run_id, root_index)``: each run of ``:source`` and its top run's index."""
    source = dialect.bind("source")
    return (
        "tree(run_id, root_index) AS ("
        f"SELECT r.run_id, r.run_index FROM {runs} AS r WHERE r.session_id = {source} AND ("
        "r.parent_run_id IS NULL OR NOT EXISTS ("
        f"SELECT 1 FROM {runs} AS up WHERE up.session_id = {source} AND up.run_id = r.parent_run_id)) "
        "UNION ALL "
        f"SELECT c.run_id, t.root_index FROM {runs} AS c JOIN tree AS t ON c.parent_run_id = t.run_id "
        f"WHERE c.session_id = {source})"
    )


def copy_runs_sql(runs: str, dialect_name: str, *, cut: bool) -> str:
    """The ``INSERT ... SELECT`` copying ``:source``'s runs into ``:target`` (up to ``:cut``)."""
    dialect = _DIALECTS[dialect_name]
    parent_new_id = dialect.new_id("p.run_index")
    columns = f"run_id, session_id, run_index, parent_run_id, run_data, {_COPIED_COLUMNS}"
    selected = ", ".join(f"r.{column.strip()}" for column in _COPIED_COLUMNS.split(","))
    source = dialect.bind("source")
    body = (
        f"SELECT {dialect.new_id('r.run_index')}, {dialect.bind('target')}, r.run_index, "
        f"CASE WHEN p.run_index IS NULL THEN r.parent_run_id ELSE {parent_new_id} END, "
        f"{dialect.rewrite(runs, parent_new_id)}, {selected} "
        f"FROM {runs} AS r LEFT JOIN {runs} AS p ON p.session_id = {source} AND p.run_id = r.parent_run_id "
        f"{dialect.lateral}"
    )
    if cut:
        body += "JOIN tree AS t ON t.run_id = r.run_id "
        body += f"WHERE r.session_id = {source} AND t.root_index <= :cut"
        return f"INSERT INTO {runs} ({columns}) WITH RECURSIVE {_roots(runs, dialect)} {body}"
    return f"INSERT INTO {runs} ({columns}) {body}WHERE r.session_id = {source}"


def root_index_sql(runs: str, dialect_name: str) -> str:
    """The index of the top-level run above ``:run_id`` in ``:source`` (no row: not found)."""
    dialect = _DIALECTS[dialect_name]
    found = "SELECT t.root_index FROM tree AS t WHERE t.run_id = :run_id"
    return f"WITH RECURSIVE {_roots(runs, dialect)} {found}"


def _table_sql(conn: Connection, table: Table) -> str:
    return conn.dialect.identifier_preparer.format_table(table)


@dataclass(frozen=True)
class ForkRequest:
    """What to fork and how (see :meth:`SessionStore.fork_session`)."""

    source_id: str
    target_id: str
    at_run_id: str | None
    session_name: str | None
    user_id: str | None


def fork_session_rows(
    conn: Connection,
    tables: Tables,
    insert: InsertFactory,
    source: Mapping[str, Any],
    request: ForkRequest,
    log: ChangeLog,
) -> dict[str, Any]:
    """Insert the fork's session row and its copied runs; returns the new session row.

    ``source`` is the locked row of the source session. The changes (``session.created``, then
    one ``run.created`` per copied run, in order) go to ``log``, whose time the fork's is.

    Raises:
        RunNotFound: ``at_run_id`` is not a run of the source session.
        SessionAlreadyExists: ``target_id`` is taken.
        SessionInTrash: ``target_id`` is a session in the trash.
    """
    now = log.now
    runs_sql = _table_sql(conn, tables.runs)
    cut: int | None = None
    if request.at_run_id is not None:
        where = {"source": request.source_id, "run_id": request.at_run_id}
        found = conn.execute(text(root_index_sql(runs_sql, conn.dialect.name)), where).first()
        if found is None:
            raise RunNotFound(request.at_run_id, request.source_id)
        cut = int(found[0])
    sessions = tables.sessions
    session_data = dict(source["session_data"] or {})
    session_data[FORKED_FROM_SESSION] = request.source_id
    session_data.pop(FORKED_FROM_RUN, None)
    if request.at_run_id is not None:
        session_data[FORKED_FROM_RUN] = request.at_run_id
    if request.session_name is not None:
        session_data["session_name"] = request.session_name
    explicit = session_data.get("session_name")
    values = {column.name: source[column.name] for column in sessions.c}
    values.update(
        session_id=request.target_id,
        user_id=request.user_id if request.user_id is not None else source["user_id"],
        session_data=session_data,
        explicit_name=explicit if isinstance(explicit, str) else None,
        # Named below by settle_names, from the copy's first naming run.
        derived_name="",
        name_run_id=None,
        created_at=now,
        updated_at=now,
        version=1,
    )
    statement = (
        insert(sessions)
        .values(values)
        .on_conflict_do_nothing(index_elements=[sessions.c.session_id])
        .returning(*sessions.c, *naming_columns(sessions)[-1:])
    )
    row = conn.execute(statement).mappings().first()
    if row is None:
        raise refusal(conn, tables, request.target_id, create=True)
    if conn.dialect.name == "postgresql":
        # The JSON rewrite's per-row subplan inflates the estimated cost past jit_above_cost,
        # and compiling it took 2.2 s of a 2.8 s copy of 2,000 runs (0.5 s without).
        conn.execute(text("SET LOCAL jit = off"))
    params = {
        "source": request.source_id,
        "target": request.target_id,
        "prefix": str(uuid.uuid4())[:24],
        "cut": cut,
    }
    conn.execute(text(copy_runs_sql(runs_sql, conn.dialect.name, cut=cut is not None)), params)
    names = settle_names(conn, tables, row, explicit=values["explicit_name"])
    log.add("session.created", row)
    # One change per copied run, recorded from the runs table in SQL (no run id comes to Python).
    log.add_runs_of("run.created", row)
    return {**row, **names.columns()}


def new_session_id() -> str:
    """A fresh session id for a fork that was not given one."""
    return str(uuid.uuid4())


__all__ = ["FORKED_FROM_RUN", "FORKED_FROM_SESSION", "ForkRequest", "fork_session_rows", "new_session_id"]
