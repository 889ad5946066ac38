"""What the ``/agents``, ``/teams`` and ``/workflows`` routers share: scopes, lookup and running.

Scopes are AgentOS's: ``<kind>:read`` to list and describe, ``<kind>:run`` to run, where kind
is ``agents``, ``teams`` or ``workflows``. A per-runtime scope (``agents:<id>:run``) or a
wildcard one (``agents:*:run``) grants the same for one runtime or all. Callers that are not
scoped (auth off, security key) and admin tokens hold them all.

A run's ``user_id`` is the caller's JWT ``sub`` unless the caller is an admin, so a user
cannot write into another user's session: the runtime refuses to open it and the caller gets
a 404, before anything is stored.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, Literal
from uuid import uuid4

from fastapi import Depends, Form, Path, Request, Response
from fastapi.responses import StreamingResponse

from sessiondb.agent import RunEvent
from sessiondb.api.auth import Principal, forbidden
from sessiondb.api.deps import CallerDep
from sessiondb.api.field_limits import DEFAULT_MAX_ID_CHARS
from sessiondb.api.responses import JsonResponse
from sessiondb.api.routers.common import ERROR_RESPONSES
from sessiondb.api.run_relay import RunRelay
from sessiondb.api.runtimes import Runtime, RuntimeKind, RuntimeRegistry, describe
from sessiondb.api.schemas.runtimes import RunForm
from sessiondb.workflow import Workflow

logger = logging.getLogger("sessiondb.api")

Action = Literal["read", "run"]

PATH_PARAMS: dict[RuntimeKind, str] = {"agents": "agent_id", "teams": "team_id", "workflows": "workflow_id"}
"""The path parameter naming a runtime of each kind, as AgentOS spells it."""

RUNTIME_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: ERROR_RESPONSES[code] for code in (401, 403, 404, 422, 500, 503)
}
"""Errors any runtime endpoint may answer."""

RUN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "With stream=false, the finished run as JSON. With stream=true (the default), "
            "server-sent events as the runtime emits them, one `event: <name>` and one "
            "`data: <json>` line each, ending with a *Completed, *Cancelled or *Error event. A client "
            "that disconnects does not stop the run: it finishes and is stored as usual."
        ),
        "content": {
            "text/event-stream": {
                # One event; the stream is a sequence of them.
                "schema": {
                    "type": "object",
                    "properties": {
                        "event": {"type": "string", "description": "The event name, e.g. RunContent"},
                        "data": {"type": "string", "description": "The event as a JSON object"},
                    },
                    "required": ["event", "data"],
                },
                "example": 'event: RunStarted\ndata: {"event":"RunStarted","run_id":"0b5e..."}\n\n',
            }
        },
    },
    404: {
        "description": "No such runtime, or session_id names another user's session",
        "model": ERROR_RESPONSES[404]["model"],
    },
    409: {
        "description": (
            "session_id names a session of another kind of runtime (e.g. an agent run into a "
            "workflow's session), or a session of another user when the caller may act for every "
            "user (a user-scoped caller gets 404). Nothing is stored."
        ),
        "model": ERROR_RESPONSES[404]["model"],
    },
}
"""The documented replies of ``POST /<kind>/{id}/runs`` beyond :data:`RUNTIME_RESPONSES`."""


async def get_runtimes(request: Request) -> RuntimeRegistry:
    """The runtimes this app hosts."""
    registry: RuntimeRegistry = request.app.state.runtimes
    return registry


RuntimesDep = Annotated[RuntimeRegistry, Depends(get_runtimes)]
RunFormDep = Annotated[RunForm, Form()]


def may(principal: Principal, kind: RuntimeKind, action: Action, runtime_id: str | None = None) -> bool:
    """Whether the caller holds ``<kind>:<action>``, or the same scope for this one runtime."""
    scopes = [f"{kind}:{action}", f"{kind}:*:{action}"]
    if runtime_id is not None:
        scopes.append(f"{kind}:{runtime_id}:{action}")
    return any(principal.may(scope) for scope in scopes)


def require_scope(kind: RuntimeKind, action: Action) -> Callable[[Request, Principal], Awaitable[None]]:
    """A dependency answering 403 unless the caller may ``action`` the runtime in the path.

    A dependency (not a check inside the handler) so that a caller without the scope learns
    nothing, not even whether its form would have validated.
    """

    async def check(request: Request, principal: CallerDep) -> None:
        runtime_id = request.path_params.get(PATH_PARAMS[kind])
        if not may(principal, kind, action, runtime_id):
            raise forbidden(f"{kind}:{action}")

    return check


def list_runtimes(registry: RuntimeRegistry, kind: RuntimeKind, principal: Principal) -> Response:
    """The runtimes of ``kind`` the caller may read (403 when it may read none of them)."""
    visible = [runtime for runtime in registry.all(kind) if may(principal, kind, "read", str(runtime.id))]
    if not visible and not may(principal, kind, "read"):
        raise forbidden(f"{kind}:read")
    return JsonResponse([describe(runtime) for runtime in visible])


def get_runtime(registry: RuntimeRegistry, kind: RuntimeKind, runtime_id: str) -> Response:
    """The description of one runtime (404 when there is none)."""
    return JsonResponse(describe(registry.get(kind, runtime_id)))


RunIdPath = Annotated[
    str, Path(description="Id of the run to cancel", min_length=1, max_length=DEFAULT_MAX_ID_CHARS)
]
"""The ``run_id`` of a cancel endpoint (capped like every id, so a huge one is a 422)."""

CANCEL_DESCRIPTION = (
    "Stop a run of this {noun} that is executing on this server: it stops at its next step "
    "(before its next model call, tool call or write, or once the model's current reply is in) "
    "and is stored with status `CANCELLED`; its `session_state` changes are not saved. A "
    "streamed run ends with a `{event}` event. A run executing on another server on the same "
    "database is flagged in the database and stops before its next model call. As in AgentOS "
    "the answer is always `{{}}`: a run that is unknown, has ended or belongs to another user is "
    "left as it is, and the answer does not tell them apart. Read the run to learn its final status."
)
"""The description of the cancel endpoints (``noun`` and ``event`` filled per kind)."""


async def cancel_run(runtime: Runtime, run_id: str, principal: Principal) -> Response:
    """Ask ``run_id`` of ``runtime`` to stop, for a user the caller may act for; always ``{}``."""
    await runtime.acancel_run(run_id, user_id=principal.user_filter(None))
    return JsonResponse({})


async def start_run(runtime: Runtime, form: RunForm, principal: Principal) -> Response:
    """Run ``runtime`` on the form's message: one JSON reply, or server-sent events.

    When streaming, errors raised before the first event are raised here too, so they still
    become HTTP errors.

    Raises:
        SessionOwnedByAnotherUser: ``session_id`` names another user's session (404 for a
            user-scoped caller, through the error handlers).
        SessionTypeMismatch: ``session_id`` names a session another kind of runtime created
            (409 through the error handlers).
    """
    options: dict[str, Any] = {
        # Each request gets a new session unless it names one: the runtime's own default
        # session id would otherwise be shared by every caller of the server.
        "session_id": form.session_id or str(uuid4()),
        "user_id": principal.user_filter(form.user_id),
        "session_state": form.session_state,
        "metadata": form.metadata,
    }
    if not form.stream:
        run = await runtime.arun(form.message, stream=False, **options)
        return JsonResponse(run.to_dict())
    events = runtime.arun_stream(form.message, **options)
    assert isinstance(events, AsyncGenerator)
    try:
        # Opening the session happens before the first event: an error there (another
        # user's session, a database down) is still answered with its HTTP status.
        first = await anext(events)
    except BaseException:
        await events.aclose()
        raise
    return StreamingResponse(
        _sse(first, RunRelay(events), _error_event_name(runtime)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _error_event_name(runtime: Runtime) -> str:
    if isinstance(runtime, Workflow):
        return "WorkflowError"
    return "TeamRunError" if runtime.session_type == "team" else "RunError"


async def _sse(first: RunEvent, events: RunRelay, error_name: str) -> AsyncIterator[str]:
    last = first
    try:
        yield first.to_sse()
        async for event in events:
            last = event
            yield event.to_sse()
    except Exception as exc:
        # The response has started, so the error can only travel as an event. The runtimes
        # emit their own *Error event (and store the run as ERROR) before raising; add one
        # only if that did not happen, and keep the server serving.
        logger.exception("run %s failed while streaming", last.run_id)
        if not last.event.endswith("Error"):
            error = RunEvent(
                event=error_name, run_id=last.run_id, session_id=last.session_id, content=str(exc)
            )
            yield error.to_sse()
    # A client that goes away ends only this response: the relay's task carries the run on to
    # its final status (see sessiondb.api.run_relay).


__all__ = [
    "CANCEL_DESCRIPTION",
    "PATH_PARAMS",
    "RUNTIME_RESPONSES",
    "RUN_RESPONSES",
    "RunFormDep",
    "RunIdPath",
    "RuntimesDep",
    "cancel_run",
    "get_runtime",
    "get_runtimes",
    "list_runtimes",
    "may",
    "require_scope",
    "start_run",
]
