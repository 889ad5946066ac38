"""Sessions and runs to column values and back. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import orjson
from sqlalchemy import RowMapping

from sessiondb.db._sql.listing import Listing
from sessiondb.db._tracking import encode_json, mark_loaded, session_fields
from sessiondb.db.query import Page, SessionQuery
from sessiondb.run.agent import RunOutput
from sessiondb.run.team import TeamRunOutput
from sessiondb.run.workflow import AnyRun, WorkflowRunOutput
from sessiondb.session import SESSION_CLASSES, Session, SessionType
from sessiondb.session._runs import collector_paused, quietly
from sessiondb.session.base import StoreToken
from sessiondb.session.naming import explicit_session_name

# The session fields that live in columns of the same name (runs live in the runs table).
SESSION_FIELDS: tuple[str, ...] = (
    "agent_id",
    "team_id",
    "workflow_id",
    "user_id",
    "workflow_name",
    "session_data",
    "agent_data",
    "team_data",
    "workflow_data",
    "metadata",
    "summary",
)

RUN_CLASSES: dict[str, type[RunOutput] | type[TeamRunOutput] | type[WorkflowRunOutput]] = {
    "agent": RunOutput,
    "team": TeamRunOutput,
    "workflow": WorkflowRunOutput,
}


def dumps(value: Any) -> str:
    """The JSON serialiser of the engines the backends create: :func:`encode_json`.

    Raises:
        InvalidQuery: the value cannot be encoded (nested more than 254 levels deep). It is
            raised from inside the driver or SQLAlchemy; ``translated_errors`` passes it on.
    """
    return encode_json(value)


def session_columns(session: Session) -> dict[str, Any]:
    """The column values of a session row that come from the object itself."""
    data = session_fields(session)
    values = {field: data.get(field) for field in SESSION_FIELDS}
    values.update(
        session_id=session.session_id,
        session_type=session.session_type,
        explicit_name=explicit_session_name(session),
    )
    return values


def run_type(run: AnyRun) -> str:
    """``"workflow"``, ``"team"`` or ``"agent"``: the class of a run, as stored."""
    if isinstance(run, WorkflowRunOutput):
        return "workflow"
    if isinstance(run, TeamRunOutput):
        return "team"
    return "agent"


def run_columns(run: AnyRun) -> dict[str, Any]:
    """The column values of a run row, except ``run_data`` (its JSON text) and its place."""
    # The fields' values, read from the instance: ``getattr`` of a field the class lacks (a
    # team run's ``agent_id``) goes through pydantic's ``__getattr__``, which costs ~15 µs to
    # raise its AttributeError: a fifth of encoding the run, on every run a store writes.
    values = run.__dict__
    return {
        "run_id": run.run_id,
        "run_type": run_type(run),
        # An empty id counts as none, as it does for naming (team member runs).
        "agent_id": values.get("agent_id") or None,
        "team_id": values.get("team_id") or None,
        "workflow_id": values.get("workflow_id") or None,
        "user_id": run.user_id,
        "parent_run_id": run.parent_run_id,
        "status": run.status_value,
        "created_at": run.created_at,
    }


PAUSE_COLLECTOR_FROM = 64
"""Runs in one build from which the cyclic garbage collector is paused (see :func:`_building`)."""


def _building(count: int) -> AbstractContextManager[None]:
    """Pause the cyclic garbage collector while ``count`` runs' objects are built, if
    :data:`PAUSE_COLLECTOR_FROM` or more (see :func:`sessiondb.session._runs.collector_paused`)."""
    return collector_paused(count, threshold=PAUSE_COLLECTOR_FROM)


def decode_run(run_kind: str, text: str) -> AnyRun:
    """Build the run stored as ``text`` in a row of ``run_type`` ``run_kind``."""
    run: AnyRun = RUN_CLASSES[run_kind].from_dict(orjson.loads(text))
    return run


def decode_session_runs(session_type: SessionType, texts: Sequence[str]) -> list[AnyRun]:
    """Build runs the way a session of ``session_type`` reads them from a stored dict.

    The session class decides (a workflow session, for instance, keeps only workflow runs),
    exactly as when a whole session is loaded from a dict.
    """
    with _building(len(texts)):
        runs: list[AnyRun] = SESSION_CLASSES[session_type]._runs_from_texts(texts)
    return runs


def session_from_row(
    row: RowMapping | Mapping[str, Any],
    *,
    store: StoreToken,
    session_type: SessionType | None,
    runs: Sequence[tuple[str, str]] | None,
    complete: bool,
    lazy: bool = False,
) -> Session:
    """Build a session from its row and, optionally, its runs.

    Args:
        row: the session row (every column).
        store: the store that read it.
        session_type: the class to build; the row's own type when ``None``.
        runs: ``(run_id, JSON text)`` of the loaded runs in order, or ``None`` when no run
            was loaded (the session's ``runs`` is then ``None``).
        complete: whether ``runs`` is the whole history.
        lazy: each run is decoded when first read (see :mod:`sessiondb.session._runs`)
            rather than now.
    """
    session_class = SESSION_CLASSES[session_type or row["session_type"]]
    data = {field: row[field] for field in SESSION_FIELDS}
    data.update(session_id=row["session_id"], created_at=row["created_at"], updated_at=row["updated_at"])
    data["runs"] = None
    if runs is not None and not lazy:
        with _building(len(runs)):
            data["runs"] = session_class._runs_from_texts(text for _, text in runs)
    session = session_class.from_dict(data)
    # from_dict returns None only for a dict without session_id, and every row has one.
    assert session is not None
    if runs is not None and lazy:
        lazy_runs = session_class._lazy_runs(runs)
        # Set past validation, as the decoded list is: ``runs`` was given (None) above.
        session.__dict__["runs"] = lazy_runs
        loaded = {slot.run_id: slot.text for slot in lazy_runs.slots()}
    else:
        texts = dict(runs or ())
        loaded = {run.run_id: texts[run.run_id] for run in quietly(session.runs) if run.run_id in texts}
    mark_loaded(
        session,
        store=store,
        version=row["version"],
        stored_runs=loaded,
        complete=complete,
        stored_name=row["session_name"],
    )
    return session


def listed_page(query: SessionQuery, listing: Listing, store: StoreToken) -> Page[Session]:
    """The page of sessions (without runs) that ``query`` asked for, from the rows ``store`` listed."""
    items = [
        session_from_row(row, store=store, session_type=None, runs=None, complete=False)
        for row in listing.rows
    ]
    return Page.of(query, items, listing.total_count, listing.next_cursor)
