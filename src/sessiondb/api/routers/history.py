"""``GET /sessions/{session_id}/history``: as much of the newest history as fits N tokens.

One store call (:meth:`~sessiondb.db.base.SessionStore.get_history`), which reads the runs
newest first and stops when the budget is full, so a client never pulls a whole session to
fit it into a context window. With JWT on, a caller reads only its own sessions.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from sessiondb.api.deps import ReadAccess
from sessiondb.api.responses import JsonResponse
from sessiondb.api.routers.common import ERROR_RESPONSES, SessionIdPath, TypeQuery
from sessiondb.api.schemas.history import HistoryResponse
from sessiondb.db.query import MAX_LIMIT

router = APIRouter(tags=["Sessions"], responses=ERROR_RESPONSES)


@router.get(
    "/sessions/{session_id}/history",
    response_model=HistoryResponse,
    operation_id="get_session_history",
    summary="Get Session History Within a Token Budget",
    description=(
        "The newest history messages of a session that fit in `max_tokens` tokens, with the filters "
        "of `get_messages`. Messages are never cut, the newest run comes whole or not at all, and a "
        "tool result never comes without its call. `truncated` tells whether older history was left "
        "out; `summary` can stand in for it. A workflow session's history is, with `agent_id` or "
        "`team_id`, the messages of that agent's (team's) step runs; without, its completed runs as "
        "turns (input as the user's message, output as the assistant's)."
    ),
)
async def get_session_history(
    access: ReadAccess,
    session_id: SessionIdPath,
    max_tokens: Annotated[int, Query(ge=0, le=MAX_LIMIT, description="The token budget")],
    agent_id: Annotated[str | None, Query(description="Only runs of this agent")] = None,
    team_id: Annotated[str | None, Query(description="Only runs of this team")] = None,
    member_ids: Annotated[
        list[str] | None, Query(description="Only runs of these team members (member runs included)")
    ] = None,
    last_n_runs: Annotated[
        int | None, Query(ge=0, le=MAX_LIMIT, description="Only the newest N runs that pass the filters")
    ] = None,
    limit: Annotated[int | None, Query(ge=0, le=MAX_LIMIT, description="At most this many messages")] = None,
    skip_roles: Annotated[list[str] | None, Query(description="Leave out messages with these roles")] = None,
    skip_statuses: Annotated[
        list[str] | None,
        Query(description="Leave out runs in these states (default: paused, cancelled, error, regenerated)"),
    ] = None,
    skip_history_messages: Annotated[
        bool, Query(description="Leave out messages replayed from earlier runs")
    ] = True,
    skip_member_messages: Annotated[
        bool,
        Query(description="Only top-level runs (off when team_id or member_ids is given), as get_messages"),
    ] = True,
    session_type: TypeQuery = None,
) -> Response:
    """Read the newest history that fits the budget."""
    history = await access.store.aget_history(
        session_id,
        max_tokens=max_tokens,
        agent_id=agent_id,
        team_id=team_id,
        member_ids=member_ids,
        last_n_runs=last_n_runs,
        limit=limit,
        skip_roles=skip_roles,
        skip_statuses=skip_statuses,
        skip_history_messages=skip_history_messages,
        skip_member_messages=skip_member_messages,
        user_id=access.user_id,
    )
    body = {
        "messages": [message.to_dict() for message in history.messages],
        "tokens": history.tokens,
        "truncated": history.truncated,
        "summary": history.summary.to_dict() if history.summary is not None else None,
    }
    return JsonResponse(body)
