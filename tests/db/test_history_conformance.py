"""``get_history`` against every backend: the newest history that fits a token budget."""

from __future__ import annotations

from typing import Any

import pytest
from db_builders import agent_run, agent_session, workflow_session

from sessiondb.db._sql import SqlStore
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import InvalidQuery, SessionNotFound
from sessiondb.run import Message, RunOutput, RunStatus
from sessiondb.run.metrics import MessageMetrics
from sessiondb.session import SessionSummary
from sessiondb.session.tokens import count_message_tokens


def _tokens(messages: list[Message]) -> int:
    return sum(count_message_tokens(m) for m in messages)


@pytest.fixture
def five(store: SessionStore) -> SessionStore:
    """s1: five runs "message 0" .. "message 4" (user, assistant), and a summary."""
    store.upsert_session(agent_session("s1", runs=5, summary=SessionSummary(summary="earlier talk")))
    return store


def _contents(messages: list[Message]) -> list[Any]:
    return [m.content for m in messages]


def test_the_newest_runs_that_fit_are_returned_whole_and_in_order(five: SessionStore) -> None:
    everything = five.get_session("s1").get_messages()
    last_two = everything[-4:]
    history = five.get_history("s1", max_tokens=_tokens(last_two) + 3)
    assert _contents(history.messages) == ["message 3", "MESSAGE 3", "message 4", "MESSAGE 4"]
    assert history.tokens == _tokens(last_two) and history.truncated
    assert history.summary == SessionSummary(summary="earlier talk")
    # One message more would fit in an older run: messages are cut one by one there.
    history = five.get_history("s1", max_tokens=_tokens(everything[-5:]))
    assert _contents(history.messages) == ["MESSAGE 2", "message 3", "MESSAGE 3", "message 4", "MESSAGE 4"]


def test_a_budget_that_holds_everything_gives_get_messages(five: SessionStore) -> None:
    expected = five.get_session("s1").get_messages()
    history = five.get_history("s1", max_tokens=10_000)
    assert _contents(history.messages) == _contents(expected)
    assert history.tokens == _tokens(expected) and not history.truncated


def test_the_newest_turn_is_never_cut(five: SessionStore) -> None:
    newest = five.get_session("s1").get_messages()[-2:]
    history = five.get_history("s1", max_tokens=_tokens(newest) - 1)
    assert history.messages == [] and history.tokens == 0 and history.truncated
    assert five.get_history("s1", max_tokens=0).messages == []


def test_the_models_own_count_is_used_where_a_message_has_one(store: SessionStore) -> None:
    run = agent_run("r0", "hi")
    assert run.messages is not None
    run.messages[1].metrics = MessageMetrics(output_tokens=500)
    store.upsert_session(agent_session("s1"))
    store.upsert_run("s1", run)
    history = store.get_history("s1", max_tokens=10_000)
    assert history.tokens == count_message_tokens(run.messages[0]) + 504
    assert store.get_history("s1", max_tokens=503).messages == []


def _tool_run(run_id: str) -> RunOutput:
    call = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    return RunOutput(
        run_id=run_id,
        agent_id="agent-1",
        status=RunStatus.COMPLETED,
        messages=[
            Message(role="system", content=f"system of {run_id}"),
            Message(role="user", content="weather?"),
            Message(role="assistant", tool_calls=[call]),
            Message(role="tool", tool_call_id="c1", content="sunny " * 50),
            Message(role="assistant", content="It is sunny."),
        ],
    )


def test_a_tool_result_never_comes_without_its_call_and_the_newest_system_message_leads(
    store: SessionStore,
) -> None:
    store.upsert_session(agent_session("s1"))
    older, newer = _tool_run("r0"), _tool_run("r1")
    assert newer.messages is not None
    newer.messages = [
        newer.messages[0],
        Message(role="user", content="thanks"),
        Message(role="assistant", content="ok"),
    ]
    store.upsert_run("s1", older)
    store.upsert_run("s1", newer)
    assert older.messages is not None and newer.messages is not None
    system = newer.messages[0]
    budget = _tokens([system, *newer.messages[1:], older.messages[4]]) + 5
    history = store.get_history("s1", max_tokens=budget)
    assert _contents(history.messages) == ["system of r1", "It is sunny.", "thanks", "ok"]
    assert history.truncated
    # With the call in, the result comes too; older runs' system messages are never repeated.
    history = store.get_history("s1", max_tokens=10_000)
    roles = ["system", "user", "assistant", "tool", "assistant", "user", "assistant"]
    assert [m.role for m in history.messages] == roles
    skipped = store.get_history("s1", max_tokens=10_000, skip_roles=["system", "tool"])
    # Without its result, the call's assistant message stays a unit of its own.
    assert [m.role for m in skipped.messages] == ["user", "assistant", "assistant", "user", "assistant"]


def test_filters_of_get_messages_apply(store: SessionStore) -> None:
    session = agent_session("s1", runs=3)
    session.upsert_run(agent_run("err", "failed", status=RunStatus.ERROR))
    session.upsert_run(agent_run("other", "from agent 2", agent_id="agent-2"))
    session.upsert_run(agent_run("member", "member run", parent_run_id="s1-r0"))
    store.upsert_session(session)
    big = 10_000
    assert _contents(store.get_history("s1", max_tokens=big, last_n_runs=1).messages) == [
        "from agent 2",
        "FROM AGENT 2",
    ]
    by_agent = store.get_history("s1", max_tokens=big, agent_id="agent-1", last_n_runs=2)
    assert _contents(by_agent.messages) == ["message 1", "MESSAGE 1", "message 2", "MESSAGE 2"]
    with_errors = store.get_history("s1", max_tokens=big, skip_statuses=[], agent_id="agent-1", last_n_runs=1)
    assert _contents(with_errors.messages) == ["failed", "FAILED"]
    limited = store.get_history("s1", max_tokens=big, limit=3)
    assert _contents(limited.messages) == ["MESSAGE 2", "from agent 2", "FROM AGENT 2"] and limited.truncated
    assert store.get_history("s1", max_tokens=big, last_n_runs=0).messages == []
    assert "member run" not in _contents(store.get_history("s1", max_tokens=big).messages)


def test_missing_foreign_and_bad_requests_are_refused(five: SessionStore) -> None:
    with pytest.raises(SessionNotFound):
        five.get_history("missing", max_tokens=10)
    with pytest.raises(SessionNotFound):
        five.get_history("s1", max_tokens=10, user_id="mallory")
    assert five.get_history("s1", max_tokens=10_000, user_id="u1").messages
    with pytest.raises(InvalidQuery, match="max_tokens"):
        five.get_history("s1", max_tokens=-1)
    five.upsert_session(workflow_session("w1"))
    with pytest.raises(InvalidQuery, match="agent_id or team_id"):
        five.get_history("w1", max_tokens=10, agent_id="a", team_id="t")
    with pytest.raises(SessionNotFound):
        five.get_history("missing", max_tokens=10, last_n_runs=0)


async def test_the_async_twin(five: SessionStore) -> None:
    history = await five.aget_history("s1", max_tokens=10_000, last_n_runs=1)
    assert _contents(history.messages) == ["message 4", "MESSAGE 4"]


def test_sql_stores_read_only_the_runs_that_fit(sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    sql_store.upsert_session(agent_session("long", runs=300))
    sizes: list[int] = []
    reads = sql_store._history_reads
    original = reads.read

    def counting(*args: Any) -> Any:
        session_type, summary, batch = original(*args)
        sizes.append(len(batch))
        return session_type, summary, batch

    monkeypatch.setattr(reads, "read", counting)
    history = sql_store.get_history("long", max_tokens=200)
    assert history.truncated and 0 < len(history.messages) < 40
    assert sum(sizes) <= 24, sizes  # the first batches only, never the 300 runs
