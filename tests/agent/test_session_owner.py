"""Another user's session is refused with the same error by every session method, as by ``run()``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from runtime_support import echo_model

from sessiondb.agent import Agent
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import SessionOwnedByAnotherUser

READS: dict[str, Callable[[Agent], Any]] = {
    "run": lambda agent: agent.run("hello"),
    "get_chat_history": lambda agent: agent.get_chat_history(),
    "get_session": lambda agent: agent.get_session(),
    "get_session_messages": lambda agent: agent.get_session_messages(),
    "get_session_state": lambda agent: agent.get_session_state(),
    "get_session_name": lambda agent: agent.get_session_name(),
}


@pytest.mark.parametrize("call", sorted(READS))
def test_another_users_session_raises_owned_by_another_user_everywhere(
    store: SessionStore, call: str
) -> None:
    Agent(model=echo_model(), db=store, session_id="s1", user_id="alice").run("alice's secret")
    intruder = Agent(model=echo_model(), db=store, session_id="s1", user_id="mallory")

    with pytest.raises(SessionOwnedByAnotherUser, match="s1"):
        READS[call](intruder)
    assert len(store.get_session("s1").runs or []) == 1  # nothing was written for mallory


async def test_the_async_twin_raises_it_too(store: SessionStore) -> None:
    Agent(model=echo_model(), db=store, session_id="s1", user_id="alice").run("hi")
    intruder = Agent(model=echo_model(), db=store, session_id="s1", user_id="mallory")
    with pytest.raises(SessionOwnedByAnotherUser):
        await intruder.aget_chat_history()


def test_a_missing_session_still_reads_as_empty(store: SessionStore) -> None:
    agent = Agent(model=echo_model(), db=store, session_id="nobody-here", user_id="alice")
    assert agent.get_session() is None
    assert agent.get_chat_history() == []
    assert agent.get_session_state() == {}


def test_the_owner_and_an_unscoped_agent_still_read_it(store: SessionStore) -> None:
    Agent(model=echo_model(), db=store, session_id="s1", user_id="alice").run("hi")
    owner = Agent(model=echo_model(), db=store, session_id="s1", user_id="alice")
    unscoped = Agent(model=echo_model(), db=store, session_id="s1")
    assert len(owner.get_chat_history()) == 2
    assert len(unscoped.get_chat_history()) == 2
