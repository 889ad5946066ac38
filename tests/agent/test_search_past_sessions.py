"""The agent's ``search_past_sessions(query)`` tool answers with full-text search hits."""

from __future__ import annotations

import orjson
from runtime_support import calls, echo_model, scripted

from sessiondb.agent import Agent
from sessiondb.db.base import SessionStore


def _tool_contents(result: object) -> list[str]:
    return [str(m.content) for m in getattr(result, "messages", None) or [] if m.role == "tool"]


def test_a_query_finds_the_users_other_sessions_by_what_was_said(store: SessionStore) -> None:
    Agent(name="Bot", model=echo_model(), db=store, session_id="old", user_id="u1").run(
        "remember the password is swordfish"
    )
    Agent(name="Bot", model=echo_model(), db=store, session_id="weather", user_id="u1").run("rain in Paris")
    Agent(name="Bot", model=echo_model(), db=store, session_id="theirs", user_id="u2").run("swordfish too")
    # The current session matches too, and is left out.
    Agent(name="Bot", model=echo_model(), db=store, session_id="new", user_id="u1").run("swordfish again?")
    model = scripted(calls("search_past_sessions", query="swordfish"), "found it")
    agent = Agent(
        name="Bot", model=model, db=store, session_id="new", user_id="u1", search_past_sessions=True
    )
    result = agent.run("what was the password?")
    [content] = _tool_contents(result)
    hits = orjson.loads(content)
    assert [hit["session_id"] for hit in hits] == ["old"]
    assert "**swordfish**" in hits[0]["extract"] and "<mark>" not in hits[0]["extract"]


def test_a_query_without_words_is_told_to_the_model(store: SessionStore) -> None:
    model = scripted(calls("search_past_sessions", query="***"), "ok")
    agent = Agent(name="Bot", model=model, db=store, session_id="s", user_id="u1", search_past_sessions=True)
    [content] = _tool_contents(agent.run("search"))
    assert content.startswith("Cannot search for '***'")


def test_without_a_query_it_lists_previews_as_agno_does(store: SessionStore) -> None:
    Agent(name="Bot", model=echo_model(), db=store, session_id="old", user_id="u1").run("hello there")
    model = scripted(calls("search_past_sessions"), "ok")
    agent = Agent(
        name="Bot", model=model, db=store, session_id="new", user_id="u1", search_past_sessions=True
    )
    [content] = _tool_contents(agent.run("list"))
    assert [preview["session_id"] for preview in orjson.loads(content)] == ["old"]
