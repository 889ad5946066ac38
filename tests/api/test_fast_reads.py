"""The hot reads' fast path (``sessiondb.api.fast_reads``) against its plain twin, the FastAPI routes.

The regression guard of issue 20: for many generated sessions of every type, on SQLite and
PostgreSQL, ``GET /sessions``, ``GET /sessions/{id}`` and ``GET /sessions/{id}/runs`` answer
the same status, headers and bytes with the fast path on as with it off (the routes render
built sessions and runs through their views; the fast path renders stored rows). Error cases
must reach the routes. The fast path's answers are kept (``sessiondb.api.read_cache``): every
comparison is made twice, the second time with the kept answer. If an optimisation changes
what the client gets, these fail; so do they if a route registered in front of these ones
took their paths (the fast path would then answer for the wrong endpoint).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessiondb.api import create_app
from sessiondb.api.read_cache import ReadCache
from sessiondb.db._sql import SqlStore
from sessiondb.db.sqlite import SqliteDb
from sessiondb.run import Message, RunInput, RunOutput, TeamRunOutput, WorkflowRunOutput
from sessiondb.run.team import TeamRunInput
from sessiondb.session import AgentSession, Session, SessionSummary, TeamSession, WorkflowSession

# No U+0000: PostgreSQL text and jsonb cannot hold it (a store error, tested elsewhere).
words = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=10)
names = st.text(alphabet="abcdefghij -", max_size=8)
scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | words
json_value = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(words, inner, max_size=2),
    max_leaves=6,
)
json_dict = st.dictionaries(words, json_value, max_size=3)
timestamps = st.none() | st.integers(0, 4_000_000_000)
statuses = st.sampled_from(["COMPLETED", "RUNNING", "ERROR", "CANCELLED", "PAUSED", "PENDING"])
contents = st.none() | words | json_dict


@st.composite
def messages(draw: st.DrawFn) -> list[Message]:
    roles = st.sampled_from(["system", "user", "assistant", "tool"])
    content = st.none() | words | st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": words}))
    return draw(
        st.lists(st.builds(Message, role=roles, content=content, from_history=st.booleans()), max_size=3)
    )


def _common(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "run_id": uuid.uuid4().hex,
        "user_id": draw(st.none() | names),
        "status": draw(statuses),
        "content": draw(contents),
        "created_at": draw(st.integers(0, 4_000_000_000)),
        "metadata": draw(st.none() | json_dict),
    }


@st.composite
def agent_runs(draw: st.DrawFn, parent: str | None = None) -> RunOutput:
    run_input = draw(st.none() | st.builds(RunInput, input_content=contents))
    return RunOutput(
        **_common(draw),
        agent_id=draw(st.sampled_from(["a1", "a2", ""])),
        parent_run_id=parent,
        input=run_input,
        messages=draw(st.none() | messages()),
        session_state=draw(st.none() | json_dict),
        tools=draw(st.none() | st.lists(json_dict, max_size=1)),
        content_type=draw(st.sampled_from(["str", "Answer"])),
    )


@st.composite
def team_runs(draw: st.DrawFn) -> list[TeamRunOutput | RunOutput]:
    fields = _common(draw)
    members = draw(st.lists(agent_runs(parent=fields["run_id"]), max_size=2))
    team_run = TeamRunOutput(
        **fields,
        team_id=draw(st.sampled_from(["t1", "t2"])),
        input=draw(st.none() | st.builds(TeamRunInput, input_content=st.none() | words)),
        messages=draw(st.none() | messages()),
        member_responses=members,
    )
    return [team_run, *members]


@st.composite
def workflow_runs(draw: st.DrawFn) -> WorkflowRunOutput:
    fields = _common(draw)
    del fields["metadata"]
    return WorkflowRunOutput(
        **fields,
        workflow_id="w1",
        input=draw(st.none() | words | json_dict),
        step_executor_runs=draw(st.none() | st.lists(agent_runs(), max_size=1)),
    )


def _session_data(draw: st.DrawFn) -> dict[str, Any] | None:
    data: dict[str, Any] = {}
    name = draw(st.none() | names)
    if name is not None:
        data["session_name"] = name
    if draw(st.booleans()):
        data["session_state"] = draw(json_dict)
    if draw(st.booleans()):
        data["session_metrics"] = {"total_tokens": draw(st.integers(0, 10**6)), "input_tokens": 3}
    return data or draw(st.none() | st.just({}))


@st.composite
def sessions(draw: st.DrawFn, user_id: str) -> Session:
    kind = draw(st.sampled_from(["agent", "team", "workflow"]))
    created = draw(timestamps)
    common: dict[str, Any] = {
        "session_id": uuid.uuid4().hex,
        "user_id": user_id,
        "session_data": _session_data(draw),
        "metadata": draw(st.none() | json_dict),
        "created_at": created,
        "updated_at": draw(st.none() | st.just(created)),
    }
    summary = draw(st.none() | st.builds(SessionSummary, summary=words, topics=st.none() | st.lists(names)))
    if kind == "agent":
        agent_data = draw(
            st.none() | json_dict | st.fixed_dictionaries({"sdk": st.sampled_from(["openai", ""])})
        )
        runs = draw(st.lists(agent_runs(), max_size=3))
        return AgentSession(**common, agent_id="a1", agent_data=agent_data, summary=summary, runs=runs)
    if kind == "team":
        groups = draw(st.lists(team_runs(), max_size=2))
        runs = [run for group in groups for run in group]
        return TeamSession(**common, team_id="t1", summary=summary, runs=runs)
    return WorkflowSession(
        **common,
        workflow_id="w1",
        workflow_name=draw(st.none() | names),
        runs=draw(st.lists(workflow_runs(), max_size=3)),
    )


@pytest.fixture
def served(sql_store: SqlStore) -> Iterator[tuple[FastAPI, TestClient]]:
    """The API over each SQL backend (the fast path needs a store with raw reads), and a client."""
    app = create_app(dbs=[sql_store])
    with TestClient(app) as client:
        yield app, client


_SEARCH_TIME = re.compile(rb'"search_time_ms":[0-9.e+-]+')


def _answer(app: FastAPI, client: TestClient, path: str, *, fast: bool) -> tuple[int, dict[str, str], bytes]:
    app.state.fast_reads = fast
    try:
        response = client.get(path)
    finally:
        app.state.fast_reads = True
    headers = {name: response.headers[name] for name in ("content-type", "etag") if name in response.headers}
    # The one value that is a measurement, not data: the time the database took.
    body = _SEARCH_TIME.sub(b'"search_time_ms":0', response.content)
    headers["content-length"] = str(len(body))
    return response.status_code, headers, body


def assert_same_answer(app: FastAPI, client: TestClient, path: str) -> bytes:
    """The fast path's answer to ``path`` is the plain route's, byte for byte, both when it reads
    the database and when it serves the answer it kept (the read cache); returns the body.

    On SQLite the second fast answer must come from the cache (nothing was written in between);
    PostgreSQL's data version moves with any database's write on the server, so there it may not.
    """
    cache: ReadCache = app.state.read_cache
    fast = _answer(app, client, path, fast=True)
    hits = cache.hits
    kept = _answer(app, client, path, fast=True)
    plain = _answer(app, client, path, fast=False)
    assert fast == plain, path
    assert kept == plain, path
    if fast[0] == 200 and isinstance(app.state.registry.resolve(None, None), SqliteDb):
        assert cache.hits == hits + 1, f"{path} was not answered from the cache"
    return fast[2]


def _paths(session: Session) -> list[str]:
    sid, kind, user = session.session_id, session.session_type, session.user_id
    return [
        f"/sessions/{sid}",
        f"/sessions/{sid}?type={kind}",
        f"/sessions/{sid}/runs",
        f"/sessions/{sid}/runs?type={kind}&status=completed&status=ERROR",
        f"/sessions/{sid}/runs?created_after=1000000000&created_before=3000000000",
        f"/sessions/{sid}/runs?user_id={user}",
    ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fast_reads_answer_what_the_routes_answer(
    served: tuple[FastAPI, TestClient], data: st.DataObject
) -> None:
    app, client = served
    store = app.state.registry.resolve(None, None)
    user = f"u-{uuid.uuid4().hex[:8]}"
    stored = [
        store.upsert_session(session)
        for session in data.draw(st.lists(sessions(user), min_size=1, max_size=4))
    ]
    listing = assert_same_answer(app, client, f"/sessions?user_id={user}")
    assert listing.count(b'"session_id"') == len(stored)
    for query in (
        "&limit=2",
        "&sort_by=updated_at&sort_order=asc",
        "&type=agent",
        "&session_name=a",
        "&page=2&limit=1",
    ):
        assert_same_answer(app, client, f"/sessions?user_id={user}{query}")
    for session in stored:
        for path in _paths(session):
            assert_same_answer(app, client, path)


@pytest.mark.parametrize(
    "path",
    [
        "/sessions/missing",
        "/sessions/missing?type=team",
        "/sessions/missing/runs",
        "/sessions?type=nope",
        "/sessions?limit=0",
        "/sessions?cursor=not-a-cursor",
        "/sessions?metadata=not-json",
        "/sessions?db_id=other",
        "/sessions?table=x",
        "/sessions/s1/runs?status=BOGUS",
        "/sessions/s1/runs?created_after=x",
        "/sessions/s1/runs?type=nope",
        "/sessions/s1?type=nope",
        "/sessions/a%2Fb",
        "/sessions/s1/",
    ],
)
def test_errors_come_from_the_routes(served: tuple[FastAPI, TestClient], path: str) -> None:
    app, client = served
    app.state.registry.resolve(None, None).upsert_session(AgentSession(session_id="s1", agent_id="a1"))

    assert_same_answer(app, client, path)


def test_the_fast_path_serves_without_the_routes_store_calls(
    served: tuple[FastAPI, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The routes read objects (aget_sessions, aget_runs); the fast path reads rows. With the
    # object reads broken, only a request the fast path answers can succeed.
    app, client = served
    store = app.state.registry.resolve(None, None)
    store.upsert_session(AgentSession(session_id="s1", agent_id="a1", runs=[RunOutput(run_id="r1")]))

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the plain route ran")

    monkeypatch.setattr(store, "aget_sessions", broken)
    monkeypatch.setattr(store, "aget_runs", broken)

    assert client.get("/sessions").json()["meta"]["total_count"] == 1
    assert [run["run_id"] for run in client.get("/sessions/s1/runs").json()] == ["r1"]
