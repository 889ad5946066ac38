"""Store bookkeeping shared by every backend: which runs a save must write, and what a load records.

A session object remembers, in its private :class:`~sessiondb.session.base.StoreState`, the
store it was loaded from or last saved to (a :class:`~sessiondb.session.base.StoreToken`), the
version it was loaded at, the JSON text of every run as stored, the runs changed through
``upsert_run``/``mark_run_changed`` and whether all its runs were loaded. Its ``runs`` list
(a :class:`~sessiondb.session._runs.RunList`) notes the runs the caller reached since the
last save. These functions are the only code that reads or writes that bookkeeping, so the
SQL backends and ``InMemoryDb`` decide "what to write" identically.

Pure: no I/O, no locking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from sessiondb.db.errors import InvalidQuery
from sessiondb.run.status import NOT_HISTORY_STATUSES, status_value
from sessiondb.run.workflow import AnyRun, WorkflowRunOutput
from sessiondb.session._runs import RunList, run_objects
from sessiondb.session.base import BaseSession, StoreState, StoreToken
from sessiondb.session.naming import derive_name_from_run, explicit_session_name

UNSTORED = StoreToken("no store")
"""The token of session objects a store builds but does not hand out as loaded from it (an
export, a name refresh): a save of one, into any store, treats it as new there."""

HISTORY_SKIP_VALUES: frozenset[str] = frozenset(status.value for status in NOT_HISTORY_STATUSES)
"""The stored status strings that history (``runs_limit``, ``history_only``) leaves out."""


def encode_json(value: Any) -> str:
    """The text every store keeps for a JSON value (a session field): orjson, with non-string
    dict keys written as strings, as ``to_dict`` and the JSON columns write them.

    Raises:
        InvalidQuery: the value cannot be encoded (nested more than 254 levels deep, or not
            JSON at all).
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError as error:
        raise InvalidQuery("data", f"a value cannot be stored as JSON: {error}") from error


def encode_fields(fields: Mapping[str, Any]) -> str:
    """``fields`` as one JSON text, each value encoded on its own by :func:`encode_json`.

    A value may then nest as deep as in a column of its own (the text of a field is embedded,
    not nested once more).

    Raises:
        InvalidQuery: a value cannot be encoded.
    """
    try:
        # One call: the same text as the values encoded one by one (orjson's output is
        # compact and deterministic), at a third of the cost of a save's 14 calls.
        return orjson.dumps(fields, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        pass  # nested too deep as one document, or not JSON: value by value says which
    return orjson.dumps(
        {name: orjson.Fragment(encode_json(value)) for name, value in fields.items()}
    ).decode()


def encode_run(run: AnyRun) -> str:
    """The JSON text a store keeps for a run: ``run.to_dict()`` dumped by orjson.

    Raises:
        InvalidQuery: the run cannot be encoded as JSON (a value nested too deeply, or one
            that is not JSON); the message names the run.
    """
    try:
        return orjson.dumps(run.to_dict(), option=orjson.OPT_NON_STR_KEYS).decode()
    except (ValueError, TypeError) as error:  # pydantic's serialisation errors; orjson's TypeError
        raise InvalidQuery("runs", f"run {run.run_id!r} cannot be stored as JSON: {error}") from error


def session_fields(session: BaseSession) -> dict[str, Any]:
    """What a store keeps of a session besides its runs: ``session.to_dict(include_runs=False)``.

    Raises:
        InvalidQuery: a field cannot be encoded as JSON (a value nested too deeply, or one
            that is not JSON); the message names the session.
    """
    try:
        return session.to_dict(include_runs=False)
    except ValueError as error:  # pydantic's serialisation errors
        message = f"session {session.session_id!r} cannot be stored as JSON: {error}"
        raise InvalidQuery("session", message) from error


def runs_to_write(
    session: BaseSession, store: StoreToken, *, create: bool = False, texts: dict[str, str] | None = None
) -> list[AnyRun]:
    """The runs of ``session`` that a save into ``store`` must write.

    Every run when nothing of the object is stored there: a ``create``, an object never
    saved, or one loaded from (or last saved to) another store. Otherwise a run is written
    when it is not stored yet, was marked dirty (``upsert_run`` or ``mark_run_changed``), or
    differs from its stored text (compared decoded, so that key order and whitespace do not
    matter). Only the runs the caller reached since the last save are compared (see
    :mod:`sessiondb.session._runs`), so a save costs what the caller touched, not the
    session's size; every run is compared when ``runs`` is a plain list or its shape was
    changed other than by appending.

    Args:
        texts: when given, receives ``run_id`` → JSON text of each run to write that the
            comparison encoded already, so the write need not encode it again.

    Returns:
        The runs to write: new ones in the order they were added (the session's order when
        every run is compared).
    """
    runs = session.runs
    if not runs:
        return []
    state = session._state
    if create or state.store is not store or state.version is None:
        return list(run_objects(runs))  # every run, decoded at once
    if isinstance(runs, RunList) and runs.tracked_by(state):
        candidates = _reached(runs, state)
    elif isinstance(runs, RunList):
        # A run still undecoded was never handed out, so it is what this store holds.
        candidates = list(runs.decoded())
    else:
        candidates = list(runs)  # a plain list: every run
    stored, dirty = state.stored_runs, state.dirty_run_ids
    pending: list[AnyRun] = []
    for run in candidates:
        text = stored.get(run.run_id)
        if text is None or run.run_id in dirty:
            pending.append(run)
            continue
        # The text this save would write: equal to the stored one (the store wrote it) means
        # unchanged; otherwise compare decoded, as JSONB may hand keys back in its own order.
        current = encode_run(run)
        if current != text and orjson.loads(current) != orjson.loads(text):
            pending.append(run)
            if texts is not None:
                texts[run.run_id] = current
    return pending


def _reached(runs: RunList, state: StoreState) -> list[AnyRun]:
    """The runs the caller reached since the last save, then those of dirty ids it did not."""
    candidates: list[AnyRun] = runs.noted()
    seen = {run.run_id for run in candidates}
    for run_id in state.dirty_run_ids - seen:
        index = runs.index_of(run_id)
        if index is not None:
            candidates.append(runs.decoded_at(index))
    return candidates


def expects_stored_row(session: BaseSession, store: StoreToken) -> bool:
    """Whether ``session`` was loaded from or saved to ``store``: its row must still be there.

    A save of such an object whose row is gone raises
    :class:`~sessiondb.db.errors.SessionDeleted` instead of recreating the row.
    """
    state = session._state
    return state.store is store and state.version is not None


def fields_unchanged(session: BaseSession, store: StoreToken, fields: str) -> bool:
    """Whether ``fields`` (the session's fields, encoded by ``store``) are what ``store`` last wrote.

    Then a save need not rewrite the session row: it only bumps its version and reserves
    the new runs' indexes, and a concurrent change of those fields by another writer
    (``update_session``, a rename) is kept rather than overwritten with an unchanged copy.
    """
    state = session._state
    return expects_stored_row(session, store) and state.saved_fields == fields


def mark_loaded(
    session: BaseSession,
    *,
    store: StoreToken,
    version: int,
    stored_runs: Mapping[str, str],
    complete: bool,
    stored_name: str,
) -> None:
    """Record on a freshly loaded session what the store holds.

    Args:
        session: the object just built from the stored row(s).
        store: the store that loaded it.
        version: the stored version.
        stored_runs: ``run_id`` → stored JSON text of every run put into ``session.runs``.
        complete: False when only some runs were loaded (``runs_limit``, or a listing).
        stored_name: the value of the stored name column.
    """
    state = StoreState(
        version=version,
        stored_runs=dict(stored_runs),
        runs_complete=complete,
        stored_name=stored_name,
        store=store,
    )
    session._store_state = state
    if isinstance(session.runs, RunList):
        session.runs.settle(state, fresh=True)


def mark_saved(
    session: BaseSession,
    *,
    store: StoreToken,
    version: int,
    written: Mapping[str, str],
    stored_name: str,
    fields: str | None = None,
) -> None:
    """Record on a session that a save into ``store`` succeeded.

    Args:
        session: the object that was saved.
        store: the store it was saved into; what the object knew of another store is dropped.
        version: the version the store gave it.
        written: ``run_id`` → JSON text of every run the save wrote.
        stored_name: the value now in the stored name column.
        fields: the session's fields as the save wrote them (see :func:`fields_unchanged`).
    """
    state = session._state
    state.saved_fields = fields
    if state.store is not store:
        state.stored_runs = {}
        state.store = store
    state.version = version
    state.stored_runs.update(written)
    state.dirty_run_ids = set()
    state.stored_name = stored_name
    if isinstance(session.runs, RunList):
        session.runs.settle(state)


def names_session(session_type: str, run: Any) -> bool:
    """Whether ``run`` may give a session of ``session_type`` its derived name.

    Team sessions skip their members' agent runs (spec §4); workflow sessions count only
    workflow runs (the ones they load); agent sessions count every run.
    """
    if session_type == "team":
        return not getattr(run, "agent_id", None)
    if session_type == "workflow":
        return isinstance(run, WorkflowRunOutput)
    return True


def first_naming_run(session_type: str, runs_in_order: Iterable[Any]) -> Any | None:
    """The first run, in stored order, that may name a session of ``session_type``."""
    for run in runs_in_order:
        if names_session(session_type, run):
            return run
    return None


def workflow_name_of(session: BaseSession) -> str | None:
    """The workflow's name: the attribute, else ``workflow_data['name']`` (the durable copy)."""
    name = getattr(session, "workflow_name", None)
    if name:
        return str(name)
    data = getattr(session, "workflow_data", None) or {}
    value = data.get("name")
    return str(value) if value else None


def name_for_store(session: BaseSession, first_run: Any | None) -> str:
    """The value of the stored name column (spec §4), computed at write time.

    Args:
        session: the session being written (its ``session_data`` and workflow name count).
        first_run: the first run in *stored* order that may name the session (see
            :func:`first_naming_run`), or ``None`` when it has none.

    Returns:
        ``session_data['session_name']`` when set, else the name derived from ``first_run``,
        else ``"New <workflow name> Session"`` for a workflow, else ``""``.
    """
    explicit = explicit_session_name(session)
    if explicit is not None:
        return explicit
    workflow_name = workflow_name_of(session)
    if first_run is None:
        if session.session_type == "workflow" and workflow_name:
            return f"New {workflow_name} Session"
        return ""
    return derive_name_from_run(session.session_type, first_run, workflow_name)


def is_history_run(parent_run_id: str | None, status: Any) -> bool:
    """Whether a run counts for history: no parent and a status outside the skip set."""
    return parent_run_id is None and status_value(status) not in HISTORY_SKIP_VALUES
