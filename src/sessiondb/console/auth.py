"""How the console knows its caller: the API's bearer token, kept in an HttpOnly cookie.

With auth on, the console asks for the token once (``/ui/login``), checks it with the API's
:func:`~sessiondb.api.auth.authenticate`, and sets it as a cookie that is

* ``HttpOnly``: no script on the page can read it, so an injected script could not steal it;
* ``SameSite=Strict``: a browser never sends it with a request another *site* starts. A site
  is not an origin, though: a page on another port of the same host (Agno's Agent UI on
  ``localhost:3000``, which the API's CORS settings even allow credentialed requests from) is
  the same site. So the cookie only counts for requests the browser marks as same-origin, or
  as a top-level navigation, whose answer no other page can read (``Sec-Fetch-Site`` and
  ``Sec-Fetch-Mode``, see :func:`token_of`), and every form post must come from the console's
  own origin (:func:`check_same_origin`);
* ``Path=/ui``: the JSON API never sees it, so the API stays bearer-only;
* a session cookie (no expiry): it is gone when the browser closes, like ``sessionStorage``,
  and ``Secure`` whenever the console is served over HTTPS.

Each request then goes through the API's own :func:`~sessiondb.api.deps.grant`, with the
cookie's token as the bearer credential (an ``Authorization`` header wins over the cookie), so
a console page shows exactly what the same token shows through ``/sessions``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials

from sessiondb.api.deps import Access, grant
from sessiondb.api.registry import StoreRegistry

COOKIE = "sessiondb_console_token"
COOKIE_PATH = "/ui"


class LoginRequired(Exception):
    """The console needs a token first; the handler redirects to the login form."""

    def __init__(self, next_url: str) -> None:
        """Remember where to come back to after logging in."""
        super().__init__(next_url)
        self.next_url = next_url


def _cookie_counts(request: Request) -> bool:
    # Browsers that predate Fetch Metadata send neither header; SameSite still holds for them.
    site = request.headers.get("sec-fetch-site")
    if site is None or site in ("same-origin", "none"):
        return True
    return request.headers.get("sec-fetch-mode") == "navigate"


def token_of(request: Request) -> str | None:
    """The caller's bearer token: the ``Authorization`` header, else the console's cookie.

    The cookie is ignored on a request another origin's page made (a ``fetch`` from another
    port of the same host, say): that page could read the answer, and it never saw the token.
    """
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if not _cookie_counts(request):
        return None
    return request.cookies.get(COOKIE) or None


def default_db_id(request: Request) -> str:
    """The database a console page shows: ``?db_id=``, else the first one served."""
    registry: StoreRegistry = request.app.state.registry
    return request.query_params.get("db_id") or registry.ids()[0]


def console_grant(request: Request, scope: str) -> Access:
    """:func:`~sessiondb.api.deps.grant` for a console page, from the query string's ``db_id``
    and ``user``.

    Raises:
        LoginRequired: auth is on and there is no token, or it no longer verifies.
        HTTPException: 403 (``scope`` missing), 404 (no such database).
    """
    token = token_of(request)
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token) if token else None
    try:
        return grant(
            request,
            credentials,
            scope,
            db_id=default_db_id(request),
            user_id=request.query_params.get("user") or None,
        )
    except HTTPException as exc:
        if exc.status_code == status.HTTP_401_UNAUTHORIZED:
            raise LoginRequired(safe_next(str(request.url.path), request.url.query)) from exc
        raise


def console_access(scope: str) -> Callable[[Request], Awaitable[Access]]:
    """A dependency granting :class:`~sessiondb.api.deps.Access` with ``scope`` to a console page."""

    async def access(request: Request) -> Access:
        return console_grant(request, scope)

    return access


def safe_next(path: str, query: str = "") -> str:
    """A console path to return to after logging in; anything else becomes ``/ui``.

    Only a path under ``/ui`` is kept, so a crafted ``?next=`` can never send the browser to
    another site (``//evil.example`` or ``https://...``) once it holds a token.
    """
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not (parts.path == "/ui" or parts.path.startswith("/ui/")):
        return "/ui"
    if parts.path.startswith("//") or "\\" in path:
        return "/ui"
    tail = f"?{query}" if query else (f"?{parts.query}" if parts.query else "")
    return quote(parts.path, safe="/%") + tail


def check_same_origin(request: Request) -> None:
    """Refuse a form post another site started (defence in depth behind ``SameSite=Strict``).

    Browsers send ``Origin`` on every POST; when it is there it must name this server (a
    sandboxed frame's ``null`` does not).

    Raises:
        HTTPException: 403 when ``Origin`` names another host.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "")
    if urlsplit(origin).netloc != host:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Cross-site form posts are refused")
