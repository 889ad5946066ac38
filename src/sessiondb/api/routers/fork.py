"""Forking sessions: ``POST /sessions/{session_id}/fork`` and AgentOS's agent and team twins.

The sessions route copies a session, or its history up to one run, in one store call and
answers with the new session's detail (201). ``/agents/{agent_id}/sessions/{session_id}/fork``
and ``/teams/...`` answer as AgentOS 3.x does: 200 ``{"session_id", "forked_from_session_id"}``,
400 when the session has no runs, 404 when it is not one of that agent's (team's) sessions.

With JWT on, a caller forks only its own sessions (another user's is a 404) and the fork is
its own; an admin's fork keeps the source's owner unless it names a ``user_id``.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Response, status

from sessiondb.api.deps import CallerDep, UserIdQuery, WriteAccess
from sessiondb.api.routers._runtime_common import RUNTIME_RESPONSES, RuntimesDep, require_scope
from sessiondb.api.routers.common import (
    CONFLICT_RESPONSE,
    ERROR_RESPONSES,
    ETAG_HEADER,
    SessionIdPath,
    session_links,
    session_response,
)
from sessiondb.api.runtimes import RuntimeKind
from sessiondb.api.schemas import SessionDetail
from sessiondb.api.schemas.fork import ForkedSession, ForkSessionRequest
from sessiondb.api.views import session_detail
from sessiondb.db.errors import SessionNotFound
from sessiondb.workflow import Workflow

router = APIRouter()

_FORK_ERRORS = {
    **CONFLICT_RESPONSE,
    404: {
        "description": "No such session (for this caller), or run_id is not one of its runs",
        "model": ERROR_RESPONSES[404]["model"],
    },
}


@router.post(
    "/sessions/{session_id}/fork",
    tags=["Sessions"],
    response_model=SessionDetail,
    status_code=status.HTTP_201_CREATED,
    operation_id="fork_session",
    summary="Fork Session",
    description=(
        "Copy a session into a new one: all its runs, or those up to and including `run_id` "
        "(member runs follow their team run). Copies get fresh run ids; state, metadata, summary "
        "and name are copied; the new session records `forked_from_session_id` (and "
        "`forked_from_run_id`). The copy is made inside the database in one transaction."
    ),
    responses={
        **ERROR_RESPONSES,
        **_FORK_ERRORS,
        201: {
            "description": "The new session",
            "headers": ETAG_HEADER,
            "links": session_links("$response.body#/session_id"),
        },
    },
)
async def fork_session(
    access: WriteAccess,
    session_id: SessionIdPath,
    body: Annotated[ForkSessionRequest | None, Body(description="What to copy; may be omitted")] = None,
) -> Response:
    """Fork one session and return the fork's detail."""
    request = body or ForkSessionRequest()
    store, user_id = access.store, access.user_id
    # An unknown run_id is a RunNotFound (404 naming the run), a taken session_id a 409.
    fork = await store.afork_session(
        session_id,
        at_run_id=request.run_id,
        new_session_id=request.session_id,
        session_name=request.session_name,
        user_id=user_id,
    )
    session = await store.aget_session(fork.session_id, user_id=user_id)
    response = session_response(session_detail(session), session, status_code=status.HTTP_201_CREATED)
    response.headers["Location"] = f"/sessions/{quote(session.session_id, safe='')}"
    return response


async def _fork_for_runtime(
    runtimes: RuntimesDep, kind: RuntimeKind, runtime_id: str, session_id: str, user_id: str | None
) -> ForkedSession:
    runtime = runtimes.get(kind, runtime_id)
    assert not isinstance(runtime, Workflow)  # the routes below name agents and teams only
    # The scope checked names this runtime, so the session must be one of its own (AgentOS).
    source = await runtime.get_db().aget_session(session_id, user_id=user_id, runs_limit=0)
    owner = getattr(source, "agent_id" if kind == "agents" else "team_id", None)
    if source.session_type != runtime.session_type or owner != runtime.id:
        raise SessionNotFound(session_id)
    try:
        new_id = await runtime.afork_session(source_session_id=session_id, user_id=user_id)
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    return ForkedSession(session_id=new_id, forked_from_session_id=session_id)


_RUNTIME_FORK_RESPONSES = {
    **RUNTIME_RESPONSES,
    400: {"description": "The session has no runs to fork", "model": ERROR_RESPONSES[400]["model"]},
    404: {
        "description": "No such runtime, or the session is not one of its sessions (for this caller)",
        "model": ERROR_RESPONSES[404]["model"],
    },
}


@router.post(
    "/agents/{agent_id}/sessions/{session_id}/fork",
    tags=["Agents"],
    response_model=ForkedSession,
    operation_id="fork_agent_session",
    summary="Fork Agent Session",
    description="Copy one of the agent's sessions, every run with a fresh id, into a new session (AgentOS).",
    responses=_RUNTIME_FORK_RESPONSES,
    dependencies=[Depends(require_scope("agents", "run"))],
)
async def fork_agent_session(
    runtimes: RuntimesDep,
    principal: CallerDep,
    agent_id: Annotated[str, Path(description="Id of the agent")],
    session_id: SessionIdPath,
    user_id: UserIdQuery = None,
) -> ForkedSession:
    """Fork an agent session."""
    return await _fork_for_runtime(runtimes, "agents", agent_id, session_id, principal.user_filter(user_id))


@router.post(
    "/teams/{team_id}/sessions/{session_id}/fork",
    tags=["Teams"],
    response_model=ForkedSession,
    operation_id="fork_team_session",
    summary="Fork Team Session",
    description="Copy one of the team's sessions, every run with a fresh id, into a new session (AgentOS).",
    responses=_RUNTIME_FORK_RESPONSES,
    dependencies=[Depends(require_scope("teams", "run"))],
)
async def fork_team_session(
    runtimes: RuntimesDep,
    principal: CallerDep,
    team_id: Annotated[str, Path(description="Id of the team")],
    session_id: SessionIdPath,
    user_id: UserIdQuery = None,
) -> ForkedSession:
    """Fork a team session."""
    return await _fork_for_runtime(runtimes, "teams", team_id, session_id, principal.user_filter(user_id))
