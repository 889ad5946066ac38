"""``export_sessions``: keyset pages of sessions with their runs' stored texts, on every backend.

The export reads run payloads as the stored text, never decoding them (the fast path). Its
plain twin is ``get_session``: decoding every exported text must give exactly the runs
``get_session`` loads, and the session's fields must be the ones it loads.
"""

from __future__ import annotations

import orjson
import pytest
from db_builders import agent_run, agent_session, team_run, team_session, workflow_run, workflow_session

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import InvalidQuery
from sessiondb.db.transfer import ExportFilter
from sessiondb.run import RunStatus
from sessiondb.session import Session

T0 = 1_700_000_000


def _seed(store: SessionStore) -> list[Session]:
    """Sessions of every type and owner, with child and cancelled runs (history skips them)."""
    sessions: list[Session] = [agent_session(f"a{k}", runs=k, created_at=T0 + k) for k in range(5)]
    odd = agent_session("z-other", user_id="u2", runs=1, created_at=T0, metadata={"k": [1, 2]})
    odd.upsert_run(agent_run("z-child", "tool call", parent_run_id="z-other-r0"))
    odd.upsert_run(agent_run("z-cancelled", "stop", status=RunStatus.CANCELLED))
    team = team_session("t1", created_at=T0, session_data={"session_state": {"n": 1}})
    team.upsert_run(agent_run("t1-member", "member speaks", agent_id="m1"))
    team.upsert_run(team_run("t1-lead", "the team question"))
    flow = workflow_session("w1", created_at=T0)
    flow.upsert_run(workflow_run("w1-r0", "plan the trip"))
    sessions += [odd, team, flow]
    store.upsert_sessions(sessions)
    return sessions


def _all(store: SessionStore, filter: ExportFilter, limit: int = 3) -> list[str]:
    ids: list[str] = []
    after: str | None = None
    while page := store.export_sessions(filter, after=after, limit=limit):
        assert len(page) <= limit
        ids += [exported.session.session_id for exported in page]
        after = page[-1].session.session_id
    return ids


def test_pages_cover_every_session_once_in_id_order(store: SessionStore) -> None:
    sessions = _seed(store)
    ids = _all(store, ExportFilter(), limit=3)
    assert ids == sorted(session.session_id for session in sessions)


def test_exported_texts_decode_to_what_get_session_loads(store: SessionStore) -> None:
    _seed(store)
    for exported in store.export_sessions(ExportFilter(), limit=100):
        loaded = store.get_session(exported.session.session_id)
        assert len(exported.runs) == len(loaded.runs or [])
        assert [orjson.loads(text) for text in exported.runs] == [run.to_dict() for run in loaded.runs or []]
        assert exported.session.runs is None
        assert exported.session.to_dict(include_runs=False) == loaded.to_dict(include_runs=False)
        assert (exported.session.created_at, exported.session.updated_at) == (
            loaded.created_at,
            loaded.updated_at,
        )


def test_child_and_cancelled_runs_are_exported_in_order(store: SessionStore) -> None:
    _seed(store)
    (exported,) = store.export_sessions(ExportFilter(session_ids=["z-other"]))
    assert [orjson.loads(text)["run_id"] for text in exported.runs] == [
        "z-other-r0",
        "z-child",
        "z-cancelled",
    ]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        (ExportFilter(user_id="u2"), ["z-other"]),
        (ExportFilter(session_type="team"), ["t1"]),
        (ExportFilter(component_id="wf-1"), ["w1"]),
        (ExportFilter(session_type="agent", component_id="wf-1"), []),
        (ExportFilter(session_ids=["a3", "t1", "missing"]), ["a3", "t1"]),
        (ExportFilter(session_ids=[]), []),
    ],
)
def test_filters(store: SessionStore, filter: ExportFilter, expected: list[str]) -> None:
    _seed(store)
    assert _all(store, filter) == expected


def test_updated_bounds_are_inclusive_then_exclusive(store: SessionStore) -> None:
    _seed(store)
    stamps = {
        e.session.session_id: e.session.updated_at for e in store.export_sessions(ExportFilter(), limit=100)
    }
    pivot = stamps["a3"]
    assert pivot is not None
    since = _all(store, ExportFilter(updated_since=pivot))
    until = _all(store, ExportFilter(updated_until=pivot))
    assert since == sorted(k for k, v in stamps.items() if v is not None and v >= pivot)
    assert until == sorted(k for k, v in stamps.items() if v is not None and v < pivot)
    assert "a3" in since and "a3" not in until


def test_after_the_last_id_is_an_empty_page(store: SessionStore) -> None:
    _seed(store)
    assert store.export_sessions(ExportFilter(), after="zzzz") == []


def test_limit_below_one_is_refused(store: SessionStore) -> None:
    with pytest.raises(InvalidQuery, match="limit"):
        store.export_sessions(ExportFilter(), limit=0)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"session_type": "robot"}, "session_type"),
        ({"updated_since": 2**64}, "created_after"),
        ({"user_id": "a\x00b"}, "user_id"),
    ],
)
def test_filter_values_are_checked(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidQuery, match=field):
        ExportFilter(**fields)  # type: ignore[arg-type]


def test_upsert_sessions_may_preserve_a_new_sessions_updated_at(store: SessionStore) -> None:
    kept = agent_session("kept", runs=1, created_at=T0, updated_at=T0 + 50)
    plain = agent_session("plain", runs=1, created_at=T0, updated_at=T0 + 50)
    store.upsert_sessions([kept], preserve_updated_at=True)
    store.upsert_sessions([plain])
    assert store.get_session("kept").updated_at == T0 + 50
    assert store.get_session("plain").updated_at == T0
    # A stored session that is written again is updated now, preserved or not.
    kept.metadata = {"again": True}
    store.upsert_sessions([kept], preserve_updated_at=True)
    assert (store.get_session("kept").updated_at or 0) > T0 + 50
