"""The built-in tools a runtime can give its model (spec §5).

* ``update_session_state`` (``enable_agentic_state``): a shallow update of the run's state.
* ``get_chat_history`` (``read_chat_history``): the session's messages as JSON.
* ``get_tool_call_history`` (``read_tool_call_history``): the latest tool calls.
* ``search_past_sessions`` / ``read_past_session`` (``search_past_sessions``): full-text search
  of the user's other sessions (or, without a query, previews of them), and the transcript of
  one of them.

They are built per run, as closures over that run's session and state.
"""

from __future__ import annotations

from typing import Any

import orjson

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import InvalidQuery, SessionNotFound
from sessiondb.db.query import SessionQuery
from sessiondb.db.search import MAX_SEARCH_LIMIT, plain_snippet
from sessiondb.models.tools import Function
from sessiondb.run._text import to_text
from sessiondb.session import AgentSession, Session, SessionType, TeamSession

PREVIEW_RUNS = 3
PREVIEW_CHARS = 200
DEFAULT_PAST_SESSIONS = 20


def agentic_state_tool(state: dict[str, Any]) -> Function:
    """``update_session_state(session_state_updates)``: set top-level keys of the run's state."""

    def update_session_state(session_state_updates: dict[str, Any]) -> str:
        """Update the session state with the given key-value pairs.

        Args:
            session_state_updates: the keys to set and their new values.
        """
        state.update(session_state_updates)
        return "Session state updated"

    return Function.from_callable(update_session_state)


def chat_history_tool(session: Session) -> Function:
    """``get_chat_history(num_chats)``: every message of the session, the last ``num_chats``."""

    def get_chat_history(num_chats: int | None = None) -> str:
        """Get the chat history of this session as a JSON list of messages.

        Args:
            num_chats: only this many of the most recent messages.
        """
        messages = session.get_messages() if isinstance(session, AgentSession | TeamSession) else []
        if num_chats is not None:
            messages = messages[-num_chats:] if num_chats > 0 else []
        return orjson.dumps([message.to_dict() for message in messages]).decode()

    return Function.from_callable(get_chat_history)


def tool_call_history_tool(session: Session) -> Function:
    """``get_tool_call_history(num_calls)``: the most recent tool calls, newest run first."""

    def get_tool_call_history(num_calls: int = 3) -> str:
        """Get the tool calls made in this session, newest first.

        Args:
            num_calls: how many calls to return.
        """
        return orjson.dumps(session.get_tool_calls(num_calls)).decode()

    return Function.from_callable(get_tool_call_history)


def past_session_tools(
    db: SessionStore,
    *,
    session_type: SessionType,
    current_session_id: str,
    user_id: str | None,
    component_id: str | None,
    limit: int | None,
) -> list[Function]:
    """``search_past_sessions(query=None)`` and ``read_past_session(session_id, num_runs)``.

    Agno's ``search_past_sessions()`` takes no argument and lists previews; here it also takes
    a ``query`` and then answers with full-text search hits (:meth:`SessionStore.search`).
    """

    def search_past_sessions(query: str | None = None) -> str:
        """Search the user's previous sessions (excluding the current one).

        With a query, the runs whose messages match it, best first, each with an extract
        (matched words in **bold**). Without one, previews of the newest sessions.

        Args:
            query: words to find (all must appear); "exact phrase" in quotes; prefix* with a star.
        """
        if query is not None and query.strip():
            return _search_hits(query)
        return _previews()

    def _search_hits(query: str) -> str:
        wanted = limit or DEFAULT_PAST_SESSIONS
        try:
            page = db.search(
                query,
                user_id=user_id,
                session_type=session_type,
                component_id=component_id,
                limit=min(wanted + 1, MAX_SEARCH_LIMIT),
            )
        except InvalidQuery as error:
            return f"Cannot search for {query!r}: {error}"
        hits = [
            {
                "session_id": hit.session_id,
                "session_name": hit.session_name,
                "run_id": hit.run_id,
                "created_at": hit.created_at,
                "extract": plain_snippet(hit.snippet, mark="**"),
            }
            for hit in page.items
            if hit.session_id != current_session_id
        ]
        return orjson.dumps(hits[:wanted]).decode()

    def _previews() -> str:
        page = db.get_sessions(
            SessionQuery(
                session_type=session_type,
                user_id=user_id,
                component_id=component_id,
                limit=(limit or DEFAULT_PAST_SESSIONS) + 1,
            )
        )
        previews: list[dict[str, Any]] = []
        for item in page.items:
            if item.session_id == current_session_id or len(previews) >= (limit or DEFAULT_PAST_SESSIONS):
                continue
            runs = db.get_runs(item.session_id, user_id=user_id, history_only=True)[:PREVIEW_RUNS]
            previews.append(
                {
                    "session_id": item.session_id,
                    "created_at": item.created_at,
                    "runs": [
                        {"user": _cut(_user_text(run)), "assistant": _cut(to_text(run.content))}
                        for run in runs
                    ],
                }
            )
        return orjson.dumps(previews).decode()

    def read_past_session(session_id: str, num_runs: int | None = None) -> str:
        """Read the conversation of one previous session.

        Args:
            session_id: the session to read.
            num_runs: only its last this many runs.
        """
        try:
            runs = db.get_runs(session_id, user_id=user_id, history_only=True, last_n=num_runs)
        except SessionNotFound:
            return f"No session with id {session_id!r}"
        lines: list[str] = []
        for run in runs:
            lines.append(f"User: {_user_text(run)}")
            lines.append(f"Assistant: {to_text(run.content)}")
        return "\n".join(lines)

    return [Function.from_callable(search_past_sessions), Function.from_callable(read_past_session)]


def _user_text(run: Any) -> str:
    for message in run.messages or []:
        if message.role == "user" and not message.from_history:
            return str(message.get_content_string())
    run_input = getattr(run, "input", None)
    return to_text(getattr(run_input, "input_content", run_input))


def _cut(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "..."


__all__ = ["agentic_state_tool", "chat_history_tool", "past_session_tools", "tool_call_history_tool"]
