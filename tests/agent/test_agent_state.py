"""session_state: precedence, recursive merge, runtime keys, and concurrent runs that both land."""

from __future__ import annotations

import threading
from typing import Any

import anyio
from runtime_support import calls, echo_model, scripted, stored_state

from sessiondb.agent import Agent
from sessiondb.agent._state import rebase
from sessiondb.db.base import SessionStore
from sessiondb.models import FunctionModel, ModelRequest
from sessiondb.run.message import Message


def test_default_state_seeds_only_a_new_session(store: SessionStore) -> None:
    agent = Agent(model=echo_model(), db=store, session_id="s1", session_state={"cart": [], "n": 0})
    first = agent.run("hi")
    assert first.session_state == {"cart": [], "n": 0}
    store.update_session("s1", session_state={"n": 5})
    second = agent.run("again")
    # The stored state wins; the default does not come back for an existing session.
    assert second.session_state == {"n": 5}
    assert stored_state(store, "s1") == {"n": 5}


def test_run_state_beats_stored_state_with_a_recursive_merge(store: SessionStore) -> None:
    agent = Agent(model=echo_model(), db=store, session_id="s1")
    agent.run("x", session_state={"prefs": {"lang": "en", "theme": "dark"}, "n": 1})
    result = agent.run("y", session_state={"prefs": {"lang": "fr"}})
    expected = {"prefs": {"lang": "fr", "theme": "dark"}, "n": 1}
    assert result.session_state == expected
    assert stored_state(store, "s1") == expected


def test_overwrite_db_session_state_replaces_the_stored_state(store: SessionStore) -> None:
    agent = Agent(model=echo_model(), db=store, session_id="s1", overwrite_db_session_state=True)
    agent.run("x", session_state={"a": 1, "b": 2})
    agent.run("y", session_state={"c": 3})
    assert stored_state(store, "s1") == {"c": 3}


def test_runtime_keys_are_visible_to_tools_and_never_saved(store: SessionStore) -> None:
    seen: dict[str, Any] = {}

    def remember(session_state: dict[str, Any]) -> str:
        """Remember things."""
        seen.update(session_state)
        session_state["visits"] = session_state.get("visits", 0) + 1
        return "ok"

    agent = Agent(
        model=scripted(calls("remember"), "done"), db=store, session_id="s1", user_id="u1", tools=[remember]
    )
    result = agent.run("go")
    assert (seen["current_session_id"], seen["current_user_id"], seen["current_run_id"]) == (
        "s1",
        "u1",
        result.run_id,
    )
    assert stored_state(store, "s1") == {"visits": 1}
    assert result.session_state == {"visits": 1}


def test_state_in_context_and_agentic_state_tool(store: SessionStore) -> None:
    model = scripted(calls("update_session_state", session_state_updates={"mood": "happy"}), "noted")
    agent = Agent(
        model=model,
        db=store,
        session_id="s1",
        session_state={"name": "Ada"},
        add_session_state_to_context=True,
        enable_agentic_state=True,
    )
    agent.run("I am happy")
    system = model.requests[0].messages[0]
    assert system.role == "system"
    assert system.content == '<session_state>\n{\n  "name": "Ada"\n}\n</session_state>'
    assert "update_session_state" in model.requests[0].tool_names
    assert stored_state(store, "s1") == {"name": "Ada", "mood": "happy"}


def test_update_session_state_is_a_shallow_update(store: SessionStore) -> None:
    agent = Agent(model=echo_model(), db=store, session_id="s1", session_state={"a": {"x": 1}, "b": 2})
    agent.run("hi")
    assert agent.update_session_state({"a": {"y": 2}}) == {"a": {"y": 2}, "b": 2}
    assert agent.get_session_state() == {"a": {"y": 2}, "b": 2}


def test_rebase_reapplies_only_this_writers_changes() -> None:
    base = {"a": 1, "shared": {"x": 1}, "gone": True, "log": ["start"]}
    mine = {"a": 2, "shared": {"x": 1, "mine": True}, "log": ["start", "mine"]}
    theirs = {"a": 1, "shared": {"x": 9}, "gone": True, "theirs": 1, "log": ["start", "theirs"]}
    assert rebase(base, mine, theirs) == {
        "a": 2,
        "shared": {"x": 9, "mine": True},
        "theirs": 1,
        "log": ["start", "theirs", "mine"],
    }


async def test_two_concurrent_runs_both_land_and_keep_each_others_state(store: SessionStore) -> None:
    both_started = anyio.Event()
    arrived: list[str] = []

    async def answer(messages: list[Message], request: ModelRequest) -> str:
        arrived.append(request.last_user_text())
        if len(arrived) == 2:
            both_started.set()
        # Neither run may finish before both have loaded the session: a real race.
        await both_started.wait()
        return f"done {request.last_user_text()}"

    agent = Agent(model=FunctionModel(function=answer), db=store, session_id="s1", session_state={"base": 0})
    async with anyio.create_task_group() as group:
        group.start_soon(lambda: agent.arun("a", session_state={"from_a": 1, "nested": {"a": 1}}))
        group.start_soon(lambda: agent.arun("b", session_state={"from_b": 2, "nested": {"b": 2}}))
    assert stored_state(store, "s1") == {"base": 0, "from_a": 1, "from_b": 2, "nested": {"a": 1, "b": 2}}
    contents = sorted(str(run.content) for run in store.get_session("s1").runs or [])
    assert contents == ["done a", "done b"]


def test_concurrent_threads_each_add_their_key(store: SessionStore) -> None:
    barrier = threading.Barrier(4)

    def answer(messages: list[Message], request: ModelRequest) -> str:
        barrier.wait(timeout=10)
        return "ok"

    agents = [Agent(model=FunctionModel(function=answer), db=store, session_id="shared") for _ in range(4)]
    threads = [
        threading.Thread(target=agent.run, args=(f"q{i}",), kwargs={"session_state": {f"k{i}": i}})
        for i, agent in enumerate(agents)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert stored_state(store, "shared") == {"k0": 0, "k1": 1, "k2": 2, "k3": 3}
    assert len(store.get_session("shared").runs or []) == 4
