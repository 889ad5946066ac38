"""``Agent(max_history_tokens=N)`` / ``Team``: the newest history that fits, the summary in its place."""

from __future__ import annotations

from typing import Any

import pytest
from runtime_support import echo_model

from sessiondb.agent import Agent
from sessiondb.db import history as history_module
from sessiondb.db.base import SessionStore
from sessiondb.run.agent import RunOutput
from sessiondb.run.message import Message
from sessiondb.run.status import RunStatus
from sessiondb.session import AgentSession, SessionSummary
from sessiondb.session._history import default_skip_values
from sessiondb.session.history_budget import fit_history
from sessiondb.session.tokens import count_message_tokens
from sessiondb.team import Team


def _history(messages: list[Message]) -> list[object]:
    return [m.content for m in messages if m.from_history]


def _system(messages: list[Message]) -> str:
    return str(messages[0].content) if messages and messages[0].role == "system" else ""


def _agent(store: SessionStore, **options: object) -> Agent:
    return Agent(
        model=echo_model(),
        db=store,
        session_id="s1",
        description="You help.",
        add_history_to_context=True,
        **options,  # type: ignore[arg-type]
    )


def test_the_newest_history_that_fits_is_sent(store: SessionStore) -> None:
    setup = _agent(store, num_history_runs=100)
    for n in range(5):
        setup.run(f"question {n}")
    stored = store.get_session("s1").get_messages(skip_roles=["system"])
    budget = sum(count_message_tokens(m) for m in stored[-4:]) + 2
    model = echo_model()
    agent = _agent(store, max_history_tokens=budget)
    agent.model = model
    agent.run("question 5")
    sent = model.requests[-1].messages
    assert _history(sent) == ["question 3", "echo: question 3", "question 4", "echo: question 4"]
    # Without a summary nothing stands in for the older runs.
    assert "summary" not in _system(sent)


def test_the_summary_stands_in_for_history_left_out(store: SessionStore) -> None:
    setup = _agent(store)
    for n in range(3):
        setup.run(f"question {n}")
    store.update_session("s1", summary=SessionSummary(summary="The user asked three questions."))
    model = echo_model()
    tight = _agent(store, max_history_tokens=40)
    tight.model = model
    tight.run("and now?")
    assert "The user asked three questions." in _system(model.requests[-1].messages)
    assert len(_history(model.requests[-1].messages)) < 6
    # A budget that holds everything leaves nothing out: no summary (it is not enabled here).
    roomy = _agent(store, max_history_tokens=100_000)
    roomy.model = model
    roomy.run("once more")
    assert "The user asked three questions." not in _system(model.requests[-1].messages)
    assert len(_history(model.requests[-1].messages)) == 8


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="max_history_tokens"):
        Agent(max_history_tokens=-1)


def test_a_team_fits_its_history_too(store: SessionStore) -> None:
    model = echo_model()
    team = Team(
        model=model,
        db=store,
        session_id="t1",
        members=[],
        add_history_to_context=True,
        max_history_tokens=10_000,
    )
    team.run("first")
    team.run("second")
    team.max_history_tokens = 0
    team.run("third")
    assert _history(model.requests[1].messages) == ["first", "echo: first"]
    assert _history(model.requests[2].messages) == []


def _long_session(store: SessionStore, runs: int) -> None:
    session = AgentSession(session_id="long", agent_id="helper")
    for n in range(runs):
        session.upsert_run(
            RunOutput(
                run_id=f"r{n}",
                agent_id="helper",
                status=RunStatus.COMPLETED,
                messages=[
                    Message(role="user", content=f"question {n}"),
                    Message(role="assistant", content=f"answer {n}"),
                ],
            )
        )
    store.upsert_session(session)


def _plain_budgeted(store: SessionStore, max_tokens: int) -> list[Message]:
    """The plain twin: the whole session loaded, its history runs fitted newest first."""
    whole = store.get_session("long")
    skipped = default_skip_values(None)
    runs = [r for r in whole.runs or [] if r.parent_run_id is None and r.status_value not in skipped]
    fitted = fit_history(
        [run.messages or [] for run in reversed(runs)],
        max_tokens=max_tokens,
        count=count_message_tokens,
        skip_roles=("system",),
    )
    return fitted.messages


def test_a_budgeted_run_reads_only_the_runs_that_fit_never_the_whole_session(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _long_session(store, 2_000)
    budget = 60
    expected = [m.content for m in _plain_budgeted(store, budget)]
    texts: list[int] = []
    decoded: list[str] = []
    real_messages = history_module.run_messages
    real_decode = RunOutput.from_dict.__func__  # type: ignore[attr-defined]

    def counting_messages(session_type: Any, data: Any) -> Any:
        texts.append(1)
        return real_messages(session_type, data)

    def counting_decode(cls: type[RunOutput], data: Any) -> RunOutput:
        decoded.append(str(data.get("run_id")) if isinstance(data, dict) else "?")
        return real_decode(cls, data)  # type: ignore[no-any-return]

    monkeypatch.setattr(history_module, "run_messages", counting_messages)
    monkeypatch.setattr(RunOutput, "from_dict", classmethod(counting_decode))
    model = echo_model()
    agent = Agent(
        model=model,
        db=store,
        id="helper",
        session_id="long",
        add_history_to_context=True,
        max_history_tokens=budget,
    )
    agent.run("question 2000")
    sent = model.requests[-1].messages
    assert _history(sent) == expected and 0 < len(expected) < 20
    # Stored runs read: the first batches newest first (8 + 16), never the 2,000; no run is
    # decoded whole (the history reads messages only; the session is loaded without runs).
    assert 0 < len(texts) <= 24, len(texts)
    assert [run_id for run_id in decoded if run_id.startswith("r")] == []
