"""Lazy runs and runs decoded at load are the same session, on every backend.

``get_session`` hands back runs decoded on first read (``store.lazy_runs``, the default);
the plain path decodes them all at load. For generated sessions of each type this loads the
session both ways and checks that every read answers the same: each ``get_messages`` filter,
``get_chat_history``, the history helpers, ``get_tool_calls``, ``get_run``, indexing and
iteration, ``to_dict``/``model_dump``, every attribute, and ``==``. Each read starts from a
fresh lazy load, so it meets undecoded runs, not ones an earlier read decoded.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessiondb.db.base import SessionStore
from sessiondb.run import Message, RunInput, RunOutput, RunStatus, TeamRunOutput, WorkflowRunOutput
from sessiondb.session import AgentSession, Session, TeamSession, WorkflowSession
from sessiondb.session._runs import RunList, Stored

_ids = itertools.count()

STATUSES = [RunStatus.COMPLETED, RunStatus.ERROR, RunStatus.CANCELLED, RunStatus.PAUSED, RunStatus.RUNNING]
# Mostly COMPLETED, so that history reads keep enough runs for last_n_runs and limit to cut.
RUN_STATUSES = st.sampled_from([RunStatus.COMPLETED] * 4 + STATUSES)
ROLES = ["system", "user", "assistant", "tool"]
AGENTS = ["a1", "a2"]


@st.composite
def messages(draw: st.DrawFn) -> list[Message]:
    found: list[Message] = []
    for index in range(draw(st.integers(0, 4))):
        role = draw(st.sampled_from([*ROLES, "user", "assistant"]))
        calls = [{"id": f"c{index}", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
        found.append(
            Message(
                role=role,
                content=draw(st.sampled_from(["hi", "ok", "ünï", None])) or f"{role}-{index}",
                from_history=draw(st.booleans()),
                tool_calls=calls if role == "assistant" and draw(st.booleans()) else None,
            )
        )
    return found


@st.composite
def agent_run(draw: st.DrawFn, run_id: str, *, member: bool = False) -> RunOutput:
    return RunOutput(
        run_id=run_id,
        agent_id=draw(st.sampled_from(AGENTS)),
        status=draw(RUN_STATUSES),
        parent_run_id="p" if member or draw(st.integers(0, 6)) == 0 else None,
        input=RunInput(input_content=draw(st.sampled_from(["q", "ä?"]))),
        content=draw(st.sampled_from(["answer", "", None])),
        messages=draw(messages()),
        created_at=draw(st.integers(1_700_000_000, 1_700_000_100)),
    )


@st.composite
def team_run(draw: st.DrawFn, run_id: str) -> TeamRunOutput:
    members = [draw(agent_run(f"{run_id}-m{k}", member=True)) for k in range(draw(st.integers(0, 2)))]
    return TeamRunOutput(
        run_id=run_id,
        team_id=draw(st.sampled_from(["t1", "t2"])),
        status=draw(RUN_STATUSES),
        parent_run_id="p" if draw(st.integers(0, 4)) == 0 else None,
        content=draw(st.sampled_from(["team answer", None])),
        messages=draw(messages()),
        member_responses=members,
    )


@st.composite
def workflow_run(draw: st.DrawFn, run_id: str) -> WorkflowRunOutput:
    return WorkflowRunOutput(
        run_id=run_id,
        workflow_id="wf",
        input=draw(st.sampled_from(["do", "", None])),
        content=draw(st.sampled_from(["done", None])),
        status=draw(RUN_STATUSES),
    )


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    kind = draw(st.sampled_from(["agent", "team", "workflow"]))
    session_id = f"lazy-{next(_ids)}"
    count = draw(st.integers(0, 9))
    runs: list[Any] = []
    for index in range(count):
        run_id = f"{session_id}-r{index}"
        if kind == "agent":
            runs.append(draw(st.one_of(agent_run(run_id), team_run(run_id))))
        elif kind == "team":
            runs.append(draw(st.one_of(team_run(run_id), agent_run(run_id))))
        else:
            runs.append(draw(workflow_run(run_id)))
    fields: dict[str, Any] = {
        "session_id": session_id,
        "user_id": "u",
        "session_data": {"k": index_or_none(count)},
    }
    if kind == "agent":
        return AgentSession(agent_id="a1", runs=runs, **fields)
    if kind == "team":
        return TeamSession(team_id="t1", runs=runs, **fields)
    return WorkflowSession(workflow_id="wf", workflow_name="flow", runs=runs, **fields)


def index_or_none(count: int) -> int | None:
    return count or None


LAST_N = st.none() | st.integers(-1, 8)
LIMIT = st.none() | st.integers(0, 9)
SKIP_ROLES = st.none() | st.lists(st.sampled_from(ROLES), max_size=2)
SKIP_STATUSES = st.none() | st.lists(st.sampled_from(STATUSES), max_size=2)


def message_filters(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    common: dict[str, st.SearchStrategy[Any]] = {
        "last_n_runs": LAST_N,
        "limit": LIMIT,
        "skip_roles": SKIP_ROLES,
        "skip_statuses": SKIP_STATUSES,
        "skip_history_messages": st.booleans(),
    }
    if kind == "team":
        common.update(
            team_id=st.none() | st.sampled_from(["t1", "t2"]),
            member_ids=st.none() | st.lists(st.sampled_from(AGENTS), max_size=2),
            skip_member_messages=st.booleans(),
        )
    else:
        common.update(
            agent_id=st.none() | st.sampled_from(AGENTS), team_id=st.none() | st.sampled_from(["t1"])
        )
        if kind == "workflow":
            common["skip_member_messages"] = st.booleans()
    return st.fixed_dictionaries(common)


def _undecoded(session: Session) -> int:
    runs = session.runs
    if not isinstance(runs, RunList):
        return 0
    return sum(1 for run in list.__iter__(runs) if type(run) is Stored)


def _reads(session: Session, filters: dict[str, Any], last_n: int | None) -> list[Callable[[Session], Any]]:
    run_ids = [run.run_id for run in session.runs or ()] + ["missing"]
    reads: list[Callable[[Session], Any]] = [
        lambda s: s.get_messages(**filters),
        lambda s: s.get_chat_history(last_n_runs=last_n),
        lambda s: s.get_chat_history(),
        lambda s: s.get_tool_calls(),
        lambda s: s.get_tool_calls(num_calls=1),
        lambda s: s.get_session_name(),
        lambda s: s.get_session_summary(),
        lambda s: [s.get_run(run_id) for run_id in run_ids],
        lambda s: len(s.runs or ()),
        lambda s: list(reversed(s.runs or [])),
        lambda s: (s.runs or [])[-2:],
        lambda s: s.runs[-1] if s.runs else None,
        lambda s: list(s.runs or ()),
        lambda s: s.to_dict(),
        lambda s: s.to_dict(include_runs=False),
        lambda s: s.model_dump(),
        lambda s: s.model_dump_json(),
        lambda s: repr(s.runs),
        lambda s: s.runs_complete,
        lambda s: s.version,
        lambda s: {name: getattr(s, name) for name in type(s).model_fields},
    ]
    if isinstance(session, TeamSession):
        reads.append(lambda s: s.get_team_history(num_runs=last_n))
        reads.append(lambda s: s.get_team_history_context(team_id="t1"))
    if isinstance(session, WorkflowSession):
        reads.append(lambda s: s.get_workflow_history(num_runs=last_n))
        reads.append(lambda s: s.get_workflow_history_context())
    return reads


def _outcome(read: Callable[[Session], Any], session: Session) -> Any:
    """What ``read`` returns, or the error it raises (refusing a filter is an answer too)."""
    try:
        return read(session)
    except ValueError as error:
        return ("raised", type(error), str(error))


def _load(store: SessionStore, session_id: str, *, lazy: bool, runs_limit: int | None) -> Session:
    store.lazy_runs = lazy
    try:
        return store.get_session(session_id, runs_limit=runs_limit)
    finally:
        store.lazy_runs = True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), runs_limit=st.none() | st.integers(0, 4), last_n=LAST_N)
def test_lazy_and_eager_loads_read_the_same(
    store: SessionStore, data: st.DataObject, runs_limit: int | None, last_n: int | None
) -> None:
    original = data.draw(sessions())
    store.upsert_session(original)
    kind = original.session_type
    filters = data.draw(message_filters(kind))
    eager = _load(store, original.session_id, lazy=False, runs_limit=runs_limit)
    assert _undecoded(eager) == 0
    for read in _reads(eager, filters, last_n):
        lazy = _load(store, original.session_id, lazy=True, runs_limit=runs_limit)
        if lazy.runs:
            assert _undecoded(lazy) == len(lazy.runs)  # nothing decoded before the read
        assert _outcome(read, lazy) == _outcome(read, eager)
    lazy = _load(store, original.session_id, lazy=True, runs_limit=runs_limit)
    assert lazy == eager
    assert _undecoded(lazy) == 0  # == decodes before comparing


def _new_run(session: Session, run_id: str) -> Any:
    if isinstance(session, WorkflowSession):
        return WorkflowRunOutput(run_id=run_id, workflow_id="wf", content="new", status="COMPLETED")
    return RunOutput(run_id=run_id, agent_id="a1", content="new", status=RunStatus.COMPLETED)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(session=sessions(), data=st.data())
def test_a_lazy_session_saves_what_an_eager_one_saves(
    store: SessionStore, session: Session, data: st.DataObject
) -> None:
    """The same edits through a lazy and an eager load store the same session."""
    store.upsert_session(session)
    count = len(session.runs or ())
    edited = data.draw(st.none() | st.integers(0, max(count - 1, 0))) if count else None
    results = []
    for lazy in (False, True):
        loaded = _load(store, session.session_id, lazy=lazy, runs_limit=None)
        if edited is not None:
            loaded.runs[edited].content = f"edited lazy={lazy}"  # type: ignore[index]
        loaded.upsert_run(_new_run(loaded, f"{session.session_id}-new{lazy}"))
        store.upsert_session(loaded)
        results.append(_load(store, session.session_id, lazy=False, runs_limit=None).to_dict()["runs"])
    eager_runs, lazy_runs = results
    if edited is not None:
        assert eager_runs[edited]["content"] == "edited lazy=False"
        assert lazy_runs[edited]["content"] == "edited lazy=True"
    assert len(lazy_runs) == len(eager_runs) + 1
    assert lazy_runs[-1]["run_id"].endswith("-newTrue")
