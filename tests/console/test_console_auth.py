"""The console with auth on: the token form, the cookie, and per-user isolation through the pages."""

from __future__ import annotations

import httpx
import jwt
import pytest
from console_seed import agent_session, client_of

from sessiondb.api import create_app
from sessiondb.api.auth import AuthConfig, JwtConfig
from sessiondb.console.auth import COOKIE, safe_next
from sessiondb.db.base import SessionStore
from sessiondb.db.query import SessionQuery

KEY = "console-test-key"
SECRET = "console-test-secret-of-32-bytes!!"


def token(sub: str, *scopes: str) -> str:
    """An HS256 JWT for ``sub`` with ``scopes``."""
    return jwt.encode({"sub": sub, "scopes": list(scopes)}, SECRET, algorithm="HS256")


USER_SCOPES = ("sessions:read", "sessions:write", "sessions:delete")


@pytest.fixture
def two_users(store: SessionStore) -> SessionStore:
    """Alice's and Bob's sessions."""
    store.create_session(agent_session("alice-1", name="Alice's plan", user_id="alice"))
    store.create_session(agent_session("bob-1", name="Bob's secret", user_id="bob"))
    return store


async def test_with_a_key_pages_ask_for_the_token_once(two_users: SessionStore) -> None:
    app = create_app(dbs=[two_users], auth=AuthConfig(security_key=KEY))
    async for client in client_of(app):
        first = await client.get("/ui/sessions/alice-1?x=1")
        assert first.status_code == 303
        assert first.headers["location"] == "/ui/login?next=%2Fui%2Fsessions%2Falice-1%3Fx%3D1"
        form = await client.get(first.headers["location"])
        assert 'type="password"' in form.text and 'value="/ui/sessions/alice-1?x=1"' in form.text
        wrong = await client.post("/ui/login", data={"token": "nope", "next": "/ui/sessions/alice-1"})
        assert wrong.status_code == 401 and "Invalid authentication token" in wrong.text
        assert COOKIE not in client.cookies
        right = await client.post("/ui/login", data={"token": KEY, "next": "/ui/sessions/alice-1"})
        assert right.status_code == 303 and right.headers["location"] == "/ui/sessions/alice-1"
        cookie = right.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
        assert "Max-Age" not in cookie and "expires" not in cookie.lower()  # gone when the browser closes
        page = await client.get("/ui/sessions/alice-1")
        assert page.status_code == 200 and "Alice&#39;s plan" in page.text
        # The cookie is the console's only: the JSON API still wants the header.
        assert (await client.get("/sessions", headers={"cookie": f"{COOKIE}={KEY}"})).status_code == 401
        out = await client.post("/ui/logout")
        assert out.status_code == 303
        client.cookies.clear()
        assert (await client.get("/ui")).status_code == 303


async def test_a_bearer_header_works_as_well_as_the_cookie(two_users: SessionStore) -> None:
    app = create_app(dbs=[two_users], auth=AuthConfig(security_key=KEY))
    async for client in client_of(app):
        response = await client.get("/ui", headers={"Authorization": f"Bearer {KEY}"})
        assert response.status_code == 200 and 'data-session-id="bob-1"' in response.text


async def test_a_user_sees_and_changes_only_its_own_sessions_through_the_console(
    two_users: SessionStore,
) -> None:
    app = create_app(dbs=[two_users], auth=AuthConfig(jwt=JwtConfig(key=SECRET)))
    async for client in client_of(app):
        client.cookies.set(COOKIE, token("alice", *USER_SCOPES), path="/ui")
        listing = await client.get("/ui?user=bob")  # asking for Bob's is ignored, as in the API
        assert 'data-session-id="alice-1"' in listing.text
        assert "bob-1" not in listing.text and "Bob&#39;s secret" not in listing.text
        assert 'id="filter-user"' not in listing.text
        for path in ("/ui/sessions/bob-1", "/ui/sessions/bob-1/delete", "/ui/sessions/bob-1/export"):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert "Bob&#39;s secret" not in response.text
        renamed = await client.post("/ui/sessions/bob-1/rename", data={"session_name": "mine now"})
        forked = await client.post("/ui/sessions/bob-1/fork")
        assert forked.status_code == 404
        assert two_users.get_sessions(SessionQuery(user_id="alice")).total_count == 1
        deleted = await client.post("/ui/sessions/bob-1/delete")
        assert renamed.status_code == 404
        assert deleted.status_code == 303  # as DELETE /sessions/{id}: nothing of Bob's to delete
        assert two_users.get_session("bob-1").get_session_name() == "Bob's secret"
        own = await client.post("/ui/sessions/alice-1/rename", data={"session_name": "Alice renamed"})
        assert own.status_code == 303
        assert two_users.get_session("alice-1").get_session_name() == "Alice renamed"


async def test_a_read_only_token_cannot_delete(two_users: SessionStore) -> None:
    app = create_app(dbs=[two_users], auth=AuthConfig(jwt=JwtConfig(key=SECRET)))
    async for client in client_of(app):
        client.cookies.set(COOKIE, token("alice", "sessions:read"), path="/ui")
        assert (await client.get("/ui/sessions/alice-1")).status_code == 200
        refused = await client.post("/ui/sessions/alice-1/delete")
        assert refused.status_code == 403 and "sessions:delete" in refused.text
        two_users.get_session("alice-1")


async def test_an_expired_token_goes_back_to_the_login_form(two_users: SessionStore) -> None:
    app = create_app(dbs=[two_users], auth=AuthConfig(jwt=JwtConfig(key=SECRET)))
    expired = jwt.encode({"sub": "alice", "scopes": ["sessions:read"], "exp": 1}, SECRET, algorithm="HS256")
    async for client in client_of(app):
        client.cookies.set(COOKIE, expired, path="/ui")
        assert (await client.get("/ui")).headers["location"] == "/ui/login"


@pytest.mark.parametrize(
    ("asked", "kept"),
    [
        ("/ui/sessions/a", "/ui/sessions/a"),
        ("/ui?type=team", "/ui?type=team"),
        ("https://evil.example/ui", "/ui"),
        ("//evil.example/ui", "/ui"),
        ("/sessions", "/ui"),
        ("/ui/../sessions", "/ui/../sessions"),
        ("/\\evil.example", "/ui"),
        ("/uiother", "/ui"),
        ("javascript:alert(1)", "/ui"),
    ],
)
def test_login_only_returns_to_console_pages(asked: str, kept: str) -> None:
    assert safe_next(asked) == kept


async def test_login_never_redirects_off_site(memory_client: httpx.AsyncClient) -> None:
    response = await memory_client.post("/ui/login", data={"token": "anything", "next": "//evil.example"})
    # Auth is off here, so any token is accepted; the redirect still stays on the console.
    assert response.headers["location"] == "/ui"


async def test_another_origins_page_cannot_read_the_console_with_the_cookie(two_users: SessionStore) -> None:
    # A page on another port of the same host is the same *site*, so SameSite=Strict lets the
    # cookie go with its fetch, and the API's CORS may let it read the answer.
    app = create_app(dbs=[two_users], auth=AuthConfig(security_key=KEY))
    async for client in client_of(app):
        client.cookies.set(COOKIE, KEY, path="/ui")
        fetched = {"sec-fetch-site": "same-site", "sec-fetch-mode": "cors", "origin": "http://localhost:3000"}
        for path in ("/ui", "/ui/sessions/bob-1", "/ui/sessions/bob-1/export"):
            response = await client.get(path, headers=fetched)
            assert response.status_code == 303 and response.headers["location"].startswith("/ui/login"), path
            assert "Bob" not in response.text
        # The person following a link to the console is let in; so is the console's own page.
        for headers in (
            {"sec-fetch-site": "same-site", "sec-fetch-mode": "navigate"},
            {"sec-fetch-site": "same-origin", "sec-fetch-mode": "cors"},
            {"sec-fetch-site": "none", "sec-fetch-mode": "navigate"},
        ):
            assert (await client.get("/ui/sessions/bob-1", headers=headers)).status_code == 200, headers
        # A form another origin posts, even as a navigation, is refused.
        posted = await client.post(
            "/ui/sessions/bob-1/delete",
            headers={
                "sec-fetch-site": "same-site",
                "sec-fetch-mode": "navigate",
                "origin": "http://localhost:3000",
            },
        )
        assert posted.status_code == 403
        two_users.get_session("bob-1")
