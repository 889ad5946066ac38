"""FastAPI dependencies shared by the routers: the caller and what it may access, ``If-Match``.

They are all ``async def`` although none awaits: FastAPI runs plain ``def`` dependencies in a
worker thread, a round trip that would cost more than the work they do.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar, TypeVarTuple

import anyio.to_thread
from fastapi import Depends, Header, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from sessiondb.api.auth import (
    DELETE_SCOPE,
    READ_SCOPE,
    WRITE_SCOPE,
    AuthConfig,
    Principal,
    authenticate,
    forbidden,
)
from sessiondb.api.registry import StoreRegistry
from sessiondb.db.base import SessionStore, read_limiter

_bearer = HTTPBearer(auto_error=False, description="A security key or a JWT, when auth is on")

NO_MATCH_VERSION = -1
"""An ``expected_version`` no session has: an ``If-Match`` ETag we never issued fails with 412."""

_ETAG = re.compile(r'^(W/)?"([^"]*)"$')

_T = TypeVar("_T")
_Args = TypeVarTuple("_Args")


async def offload(call: Callable[[*_Args], _T], *args: *_Args) -> _T:
    """Run a blocking store call in a worker thread, sharing the loop's limit of store threads.

    The limit (:data:`~sessiondb.db.base.READ_THREADS`) is the one the stores' async read
    twins use: more threads would only fight over the GIL with the event loop.
    """
    return await anyio.to_thread.run_sync(call, *args, limiter=read_limiter())


async def get_registry(request: Request) -> StoreRegistry:
    """The stores this app serves."""
    registry: StoreRegistry = request.app.state.registry
    return registry


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def bearer_credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    """What :data:`BearerDep` resolves to, without FastAPI: the ``Bearer`` credentials, or
    ``None`` when the header is missing, empty or of another scheme."""
    authorization = request.headers.get("Authorization")
    scheme, credentials = get_authorization_scheme_param(authorization)
    if not (authorization and scheme and credentials) or scheme.lower() != "bearer":
        return None
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)


def _authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    config: AuthConfig = request.app.state.auth
    principal = authenticate(config, credentials.credentials if credentials else None)
    # Kept for the error handlers, so they can avoid leaking other users' sessions to it.
    request.state.principal = principal
    return principal


async def get_principal(request: Request, credentials: BearerDep) -> Principal:
    """Authenticate the request (401 when auth is on and the token is missing or wrong)."""
    return _authenticate(request, credentials)


CallerDep = Annotated[Principal, Depends(get_principal)]


@dataclass(frozen=True, slots=True)
class Access:
    """What a sessions request may touch, settled by one dependency.

    Which store ``db_id`` and ``table`` name is settled here too, but a request that names
    none (400) or an unknown one (404) is told so only when the handler asks for
    :attr:`store`: by then FastAPI has validated the other parameters, so a bad ``type`` or
    ``limit`` is a 422 whatever the ``db_id``, as in AgentOS (its system test
    ``test_invalid_session_type_error`` sends one without ``db_id`` to a server with two
    databases).

    Attributes:
        principal: the authenticated caller.
        user_id: the ``user_id`` to filter by: the caller's own, unless it may see every
            user's sessions (then the one requested, if any).
    """

    principal: Principal
    user_id: str | None
    resolved: SessionStore | HTTPException

    @property
    def store(self) -> SessionStore:
        """The store named by ``db_id`` and ``table``.

        Raises:
            HTTPException: 400 or 404, no such store (spec §4).
        """
        if isinstance(self.resolved, HTTPException):
            raise self.resolved
        return self.resolved


def grant(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    scope: str,
    *,
    db_id: str | None,
    table: str | None = None,
    user_id: str | None = None,
) -> Access:
    """Authenticate, check ``scope``, resolve the store and the user filter, in that order.

    Raises:
        HTTPException: 401 (not authenticated), 403 (``scope`` missing); the 400 or 404 of
            an unknown store comes from :attr:`Access.store`.
    """
    principal = _authenticate(request, credentials)
    if not principal.may(scope):
        raise forbidden(scope)
    return Access(principal, principal.user_filter(user_id), _resolved(request, db_id, table))


def _resolved(request: Request, db_id: str | None, table: str | None) -> SessionStore | HTTPException:
    """The store ``db_id`` and ``table`` name, or the error :attr:`Access.store` will raise."""
    registry: StoreRegistry = request.app.state.registry
    try:
        return registry.resolve(db_id, table)
    except HTTPException as exc:
        return exc  # raised by Access.store, after FastAPI validated the parameters


DbIdQuery = Annotated[
    str | None, Query(description="Database to use; required when the server serves several")
]
TableQuery = Annotated[str | None, Query(description="Session table to use (needs db_id)")]
UserIdQuery = Annotated[
    str | None,
    Query(description="Only this user's sessions (ignored for a JWT caller without admin scope)"),
]


def session_access(scope: str) -> Callable[..., Awaitable[Access]]:
    """A dependency granting :class:`Access` to the callers holding ``scope`` (see :func:`grant`).

    One dependency rather than one per concern: FastAPI pays for each dependency it solves,
    on every request, more than the checks themselves cost.
    """

    async def access(
        request: Request,
        credentials: BearerDep,
        db_id: DbIdQuery = None,
        table: TableQuery = None,
        user_id: UserIdQuery = None,
    ) -> Access:
        return grant(request, credentials, scope, db_id=db_id, table=table, user_id=user_id)

    return access


async def create_access(request: Request, credentials: BearerDep, db_id: DbIdQuery = None) -> Access:
    """:func:`session_access` for creation: the write scope, and no ``table`` or ``user_id``, as in Agno."""
    return grant(request, credentials, WRITE_SCOPE, db_id=db_id)


def raw_query_access(scope: str) -> Callable[..., Awaitable[Access]]:
    """:func:`session_access` reading ``db_id``, ``table`` and ``user_id`` from the raw query string.

    For a route that validates its query string itself (:mod:`sessiondb.api.query`): the
    three are plain strings, so there is nothing to validate, and the route documents them.
    """

    async def access(request: Request, credentials: BearerDep) -> Access:
        query = request.query_params
        return grant(
            request,
            credentials,
            scope,
            db_id=query.get("db_id"),
            table=query.get("table"),
            user_id=query.get("user_id"),
        )

    return access


async def admin_access(
    request: Request, credentials: BearerDep, db_id: DbIdQuery = None, table: TableQuery = None
) -> Access:
    """:class:`Access` to every user's sessions, for the callers that hold an admin scope (or
    any caller when auth is off or by security key); the 403 comes before the store is looked up.

    Raises:
        HTTPException: 401 (not authenticated), 403 (not an admin); the 400 or 404 of an
            unknown store comes from :attr:`Access.store`.
    """
    principal = _authenticate(request, credentials)
    if not principal.admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Insufficient permissions: requires an admin scope")
    return Access(principal, None, _resolved(request, db_id, table))


ReadAccess = Annotated[Access, Depends(session_access(READ_SCOPE))]
WriteAccess = Annotated[Access, Depends(session_access(WRITE_SCOPE))]
DeleteAccess = Annotated[Access, Depends(session_access(DELETE_SCOPE))]
CreateAccess = Annotated[Access, Depends(create_access)]
AdminAccess = Annotated[Access, Depends(admin_access)]
ReadAccessFromRawQuery = Annotated[Access, Depends(raw_query_access(READ_SCOPE))]
"""``ReadAccess`` for the routes that parse their own query string (the two hot reads)."""


async def expected_version(
    if_match: Annotated[
        str | None,
        Header(description='Apply only if the session is at this ETag (e.g. "3"); 412 otherwise'),
    ] = None,
) -> int | None:
    """The version an ``If-Match`` header requires, or ``None`` when there is none (or ``*``).

    Raises:
        HTTPException: 400 when the header lists several ETags or is not an ETag at all.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    tags = [tag.strip() for tag in if_match.split(",") if tag.strip()]
    if len(tags) != 1:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "If-Match must name exactly one ETag")
    match = _ETAG.match(tags[0]) or _ETAG.match(f'"{tags[0]}"')
    if match is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, 'If-Match must be an ETag such as "3"')
    weak, value = match.groups()
    # If-Match uses strong comparison, so a weak ETag never matches; nor does one we never issued.
    return int(value) if not weak and value.isdigit() else NO_MATCH_VERSION


ExpectedVersionDep = Annotated[int | None, Depends(expected_version)]
