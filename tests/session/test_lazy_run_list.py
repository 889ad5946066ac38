"""Lazy runs: a ``RunList`` of stored texts decodes a run when it is first read, and only then.

What a lazily loaded session reads through every way a list can be read is checked against
the eager load in ``tests/db/test_lazy_runs_equivalence.py``; here, what each read decodes,
and that no caller ever meets an undecoded slot.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from sessiondb.run import Message, RunOutput, TeamRunOutput, WorkflowRunOutput
from sessiondb.session import AgentSession, Session, TeamSession, WorkflowSession
from sessiondb.session._runs import RunList, Stored, run_objects


def _run(run_id: str, **fields: Any) -> RunOutput:
    return RunOutput(
        run_id=run_id,
        agent_id="a",
        status="COMPLETED",
        content=f"answer {run_id}",
        messages=[Message(role="user", content=f"q {run_id}"), Message(role="assistant", content="a")],
        **fields,
    )


def _texts(runs: list[Any]) -> list[tuple[str, str]]:
    return [(run.run_id, orjson.dumps(run.to_dict()).decode()) for run in runs]


def _lazy(count: int, session_class: type[Session] = AgentSession) -> Session:
    """A session whose ``count`` runs are stored texts, as ``get_session`` hands them back."""
    session = session_class(session_id="s")
    session.__dict__["runs"] = session_class._lazy_runs(_texts([_run(f"r{k}") for k in range(count)]))
    return session


def _undecoded(session: Session) -> int:
    assert isinstance(session.runs, RunList)
    return sum(1 for run in list.__iter__(session.runs) if type(run) is Stored)


def test_reading_the_last_runs_of_a_long_session_decodes_only_those() -> None:
    session = _lazy(1_000)
    messages = session.get_messages(last_n_runs=3)
    assert [m.content for m in messages if m.role == "user"] == ["q r997", "q r998", "q r999"]
    assert _undecoded(session) == 997
    assert session.get_tool_calls(num_calls=0) == []  # walks every run: decodes them all
    assert _undecoded(session) == 0


def test_appending_a_run_or_finding_one_by_id_decodes_nothing_else() -> None:
    session = _lazy(500)
    session.upsert_run(_run("new"))
    assert _undecoded(session) == 500
    found = session.get_run("r250")
    assert found is not None and found.run_id == "r250"
    assert _undecoded(session) == 499
    assert session.get_run("r250") is found  # decoded once: the same object from then on


def test_a_loop_that_stops_early_decodes_at_most_twice_what_it_read() -> None:
    session = _lazy(1_000)
    assert session.runs is not None
    for seen, _run_read in enumerate(session.runs, 1):
        if seen == 10:
            break
    assert 1_000 - _undecoded(session) <= 2 * 10


def test_a_replaced_run_keeps_its_queue_attempt_from_the_stored_run() -> None:
    session = AgentSession(session_id="s")
    session.__dict__["runs"] = AgentSession._lazy_runs(_texts([_run("r0", queue_attempt=2)]))
    session.upsert_run(_run("r0"))
    assert session.runs is not None and session.runs[0].queue_attempt == 2


@pytest.mark.parametrize(
    "read",
    [
        lambda runs: runs == list(runs),
        lambda runs: runs[0] in runs,
        lambda runs: runs.index(runs[-1]),
        lambda runs: runs.count(runs[1]),
        repr,
        lambda runs: runs.pop(),
        lambda runs: runs.remove(runs[0]),
        lambda runs: runs.sort(key=lambda run: run.run_id, reverse=True),
        lambda runs: runs.copy(),
        lambda runs: runs[1:],
        lambda runs: runs + [],  # noqa: RUF005 (the concatenation itself is under test)
        lambda runs: [*([] + runs), *(runs + runs)],  # noqa: RUF005 (as above)
        lambda runs: runs * 2,
        copy.deepcopy,
        lambda runs: pickle.loads(pickle.dumps(list(runs))),
        run_objects,
    ],
)
def test_no_read_of_the_list_meets_an_undecoded_slot(read: Callable[[RunList], Any]) -> None:
    session = _lazy(4)
    assert isinstance(session.runs, RunList)
    read(session.runs)
    assert all(isinstance(run, RunOutput) for run in list.__iter__(session.runs))


def test_concatenating_lazy_lists_hands_out_runs_only() -> None:
    first, second = _lazy(2).runs, _lazy(2).runs
    assert isinstance(first, RunList) and isinstance(second, RunList)
    joined = [*([_run("x")] + first), *(first + second)]  # noqa: RUF005 (concatenation under test)
    assert all(isinstance(run, RunOutput) for run in joined)


def test_model_dump_of_a_lazy_session_dumps_runs() -> None:
    texts = _texts([_run(f"r{k}") for k in range(3)])
    lazy = AgentSession(session_id="s")
    lazy.__dict__["runs"] = AgentSession._lazy_runs(texts)
    eager = AgentSession(session_id="s", runs=AgentSession._runs_from_texts(text for _, text in texts))
    assert lazy.model_dump() == eager.model_dump()
    assert lazy.model_dump_json() == eager.model_dump_json()


def test_an_undecoded_run_a_session_type_drops_gets_no_slot() -> None:
    texts = _texts([WorkflowRunOutput(run_id="w0", workflow_id="wf"), _run("step")])
    runs = WorkflowSession._lazy_runs(texts)
    assert [slot.run_id for slot in runs.slots()] == ["w0"]
    assert WorkflowSession._runs_from_texts(text for _, text in texts) == list(runs)


def test_team_sessions_decode_each_stored_run_as_its_own_class() -> None:
    team_run = TeamRunOutput(run_id="t0", team_id="t", member_responses=[_run("m0")])
    texts = _texts([team_run, _run("member-run")])
    lazy = TeamSession._lazy_runs(texts)
    assert [type(run) for run in lazy] == [TeamRunOutput, RunOutput]
    assert list(lazy) == TeamSession._runs_from_texts(text for _, text in texts)
