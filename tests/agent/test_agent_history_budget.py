"""``Agent(max_history_tokens=N)`` / ``Team``: the newest history that fits, the summary in its place."""

from __future__ import annotations

import pytest
from runtime_support import echo_model

from sessiondb.agent import Agent
from sessiondb.db.base import SessionStore
from sessiondb.run.message import Message
from sessiondb.session import SessionSummary
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
