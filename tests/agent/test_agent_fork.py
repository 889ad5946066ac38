"""``Agent.fork_session`` / ``afork_session``: a new session holding copies of the history."""

from __future__ import annotations

import pytest
from runtime_support import echo_model

from sessiondb.agent import Agent
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import SessionNotFound


def test_a_fork_continues_with_the_copied_history_and_leaves_the_source(store: SessionStore) -> None:
    model = echo_model()
    agent = Agent(model=model, db=store, session_id="s1", user_id="u1", add_history_to_context=True)
    agent.run("my name is Ada")
    agent.run("I live in Lyon")

    new_id = agent.fork_session(user_id="u1")

    assert new_id != "s1" and agent.session_id == "s1"
    forked = store.get_session(new_id)
    assert forked.user_id == "u1" and forked.session_data is not None
    assert forked.session_data["forked_from_session_id"] == "s1"
    agent.run("where do I live?", session_id=new_id)
    sent = [m.content for m in model.requests[-1].messages if m.role == "user"]
    assert sent == ["my name is Ada", "I live in Lyon", "where do I live?"]
    assert len(store.get_runs("s1")) == 2 and len(store.get_runs(new_id)) == 3


def test_a_fork_at_a_run_copies_the_history_up_to_it(store: SessionStore) -> None:
    agent = Agent(model=echo_model(), db=store, session_id="s1")
    first = agent.run("one")
    agent.run("two")
    new_id = agent.fork_session(at_run_id=first.run_id)
    assert [r.input.input_content for r in store.get_runs(new_id)] == ["one"]  # type: ignore[union-attr]


def test_only_the_owner_forks_and_an_empty_session_is_refused(store: SessionStore) -> None:
    agent = Agent(model=echo_model(), db=store, session_id="s1", user_id="u1")
    agent.run("hello")
    with pytest.raises(SessionNotFound):
        agent.fork_session(source_session_id="s1", user_id="someone-else")
    with pytest.raises(SessionNotFound):
        agent.fork_session(source_session_id="missing")
    store.upsert_session(agent._new_session("empty", None))
    with pytest.raises(ValueError, match="no runs"):
        agent.fork_session(source_session_id="empty")


async def test_the_async_twin_forks_too(store: SessionStore) -> None:
    agent = Agent(model=echo_model(), db=store, session_id="s1")
    await agent.arun("hello")
    new_id = await agent.afork_session()
    assert len(await store.aget_runs(new_id)) == 1
