"""Shared session helpers: upsert_run, get_run, get_tool_calls, get_session_summary (§2.1, §2.2, §2.7)."""

from __future__ import annotations

from history_builders import agent_run, msg, turn

from sessiondb.run import MessageMetrics
from sessiondb.session import AgentSession, SessionSummary, TeamSession


def call(call_id: str) -> dict[str, object]:
    return {"id": call_id, "type": "function", "function": {"name": "f", "arguments": "{}"}}


def tool_session() -> AgentSession:
    return AgentSession(
        session_id="s",
        runs=[
            agent_run("r1", msg("assistant", "x", tool_calls=[call("a"), call("b")])),
            agent_run(
                "r2",
                msg("assistant", "y", tool_calls=[call("c")]),
                msg("tool", "z"),
                msg("assistant", "w", tool_calls=[call("d"), call("e")]),
            ),
        ],
    )


def ids(calls: list[dict[str, object]]) -> list[object]:
    return [c["id"] for c in calls]


def test_tool_calls_walk_runs_newest_first() -> None:
    assert ids(tool_session().get_tool_calls()) == ["c", "d", "e", "a", "b"]


def test_tool_calls_stop_at_num_calls() -> None:
    assert ids(tool_session().get_tool_calls(num_calls=2)) == ["c", "d"]
    assert ids(tool_session().get_tool_calls(num_calls=4)) == ["c", "d", "e", "a"]
    assert ids(tool_session().get_tool_calls(num_calls=0)) == ["c", "d", "e", "a", "b"]


def test_tool_calls_of_a_session_without_runs() -> None:
    assert AgentSession(session_id="s").get_tool_calls() == []


def test_session_summary_is_returned_as_stored() -> None:
    summary = SessionSummary(summary="talked", topics=["x"])
    assert AgentSession(session_id="s", summary=summary).get_session_summary() is summary
    assert TeamSession(session_id="s", summary=summary).get_session_summary() is summary
    assert AgentSession(session_id="s").get_session_summary() is None


def test_upsert_run_replaces_in_place_and_appends_new_runs() -> None:
    session = AgentSession(session_id="s", runs=[agent_run("r1"), agent_run("r2")])
    replacement = agent_run("r1", *turn("new"))
    session.upsert_run(replacement)
    session.upsert_run(agent_run("r3"))
    assert session.runs is not None
    assert [r.run_id for r in session.runs] == ["r1", "r2", "r3"]
    assert session.runs[0] is replacement
    assert session.get_run("r1") is replacement
    assert session.get_run("missing") is None


def test_upsert_run_clears_message_timers_and_keeps_queue_attempt() -> None:
    session = AgentSession(session_id="s", runs=[agent_run("r1", queue_attempt=2)])
    incoming = agent_run("r1", msg("assistant", "a", metrics=MessageMetrics(timer=object())))
    session.upsert_run(incoming)
    assert incoming.messages is not None
    assert incoming.messages[0].metrics.timer is None
    assert incoming.queue_attempt == 2
