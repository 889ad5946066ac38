"""Forking a session of ``InMemoryDb``: the rules :mod:`sessiondb.db._sql.fork` runs in SQL.

The copies are made from the stored JSON texts (the reference backend; nothing here is a hot
path), with the same ids the SQL backends make: a per-fork prefix and the run's index.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import orjson

from sessiondb.db._mem_rows import StoredRun, StoredSession
from sessiondb.db.errors import RunNotFound

FORKED_FROM_SESSION = "forked_from_session_id"
FORKED_FROM_RUN = "forked_from_run_id"


def _root_indexes(row: StoredSession) -> dict[str, int]:
    """Each run's top-level run's index; runs caught in a ``parent_run_id`` loop have none."""
    runs = row.runs
    roots: dict[str, int] = {}
    for run_id, stored in runs.items():
        seen = {run_id}
        current = stored
        while current.parent_run_id is not None and current.parent_run_id in runs:
            if current.parent_run_id in seen:
                break
            seen.add(current.parent_run_id)
            current = runs[current.parent_run_id]
        else:
            roots[run_id] = current.index
    return roots


def forked_row(
    source: StoredSession,
    fields: dict[str, Any],
    *,
    target_id: str,
    at_run_id: str | None,
    session_name: str | None,
    user_id: str | None,
    now: int,
) -> StoredSession:
    """The fork of ``source`` (whose decoded stored fields are ``fields``), not yet stored.

    Raises:
        RunNotFound: ``at_run_id`` is not a run of ``source``.
    """
    roots = _root_indexes(source)
    if at_run_id is not None:
        if at_run_id not in roots:
            raise RunNotFound(at_run_id, source.session_id)
        copied = [run_id for run_id, root in roots.items() if root <= roots[at_run_id]]
    else:
        copied = list(source.runs)
    prefix = str(uuid.uuid4())[:24]
    new_ids = {run_id: f"{prefix}{stored.index:012x}" for run_id, stored in source.runs.items()}
    session_data = dict(fields.get("session_data") or {})
    session_data[FORKED_FROM_SESSION] = source.session_id
    session_data.pop(FORKED_FROM_RUN, None)
    if at_run_id is not None:
        session_data[FORKED_FROM_RUN] = at_run_id
    if session_name is not None:
        session_data["session_name"] = session_name
    runs: dict[str, StoredRun] = {}
    for run_id in sorted(copied, key=lambda run_id: source.runs[run_id].index):
        stored = source.runs[run_id]
        runs[new_ids[run_id]] = _copied_run(stored, new_ids, target_id, source.session_id)
    return dataclasses.replace(
        source,
        session_id=target_id,
        fields=orjson.dumps({**fields, "session_data": session_data}),
        created_at=now,
        updated_at=now,
        user_id=user_id if user_id is not None else source.user_id,
        version=1,
        runs=runs,
    )


def _copied_run(stored: StoredRun, new_ids: dict[str, str], target_id: str, source_id: str) -> StoredRun:
    data: dict[str, Any] = orjson.loads(stored.text)
    run_id = str(data.get("run_id"))
    data["run_id"] = new_ids.get(run_id, run_id)
    data["session_id"] = target_id
    if not data.get(FORKED_FROM_SESSION):
        data[FORKED_FROM_SESSION] = source_id
    parent = stored.parent_run_id
    new_parent = new_ids.get(parent) if parent is not None else None
    if new_parent is not None:
        data["parent_run_id"] = new_parent
    members = data.get("member_responses")
    if isinstance(members, list):
        for member in members:
            if not isinstance(member, dict):
                continue
            member_id = str(member.get("run_id"))
            member["run_id"] = new_ids.get(member_id, member.get("run_id"))
            member["session_id"] = target_id
            if not member.get(FORKED_FROM_SESSION):
                member[FORKED_FROM_SESSION] = source_id
            if member.get("parent_run_id") == run_id:
                member["parent_run_id"] = data["run_id"]
    return dataclasses.replace(
        stored,
        text=orjson.dumps(data).decode(),
        parent_run_id=new_parent if new_parent is not None else parent,
    )
