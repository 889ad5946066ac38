"""The auth matrix: security key, JWT (HS256, RS256, audience, expiry, scopes) and user isolation."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from api_seed import agent_run, seed_agent_session
from api_support import asgi_client
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sessiondb.api import AuthConfig, JwtConfig, create_app
from sessiondb.api.app import warn_if_exposed
from sessiondb.db.errors import SessionOwnedByAnotherUser
from sessiondb.db.memory import InMemoryDb

SECRET = "test-secret-that-is-long-enough-for-hs256"
AUDIENCE = "sessiondb-test"
ALL_SCOPES = ["sessions:read", "sessions:write", "sessions:delete"]

_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PRIVATE = _RSA_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
RSA_PUBLIC = (
    _RSA_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def token(
    sub: str | None = "alice",
    scopes: list[str] | str | None = None,
    *,
    key: str = SECRET,
    algorithm: str = "HS256",
    aud: str | None = AUDIENCE,
    expires_in: int = 6 * 3600,
) -> str:
    # Six hours, not minutes: parametrize builds tokens when the module is collected, and a
    # loaded machine took over 20 minutes to reach these tests (they then said "expired").
    claims: dict[str, Any] = {"exp": int(time.time()) + expires_in}
    if sub is not None:
        claims["sub"] = sub
    if aud is not None:
        claims["aud"] = aud
    claims["scopes"] = ALL_SCOPES if scopes is None else scopes
    return jwt.encode(claims, key, algorithm=algorithm)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def db() -> InMemoryDb:
    store = InMemoryDb()
    seed_agent_session(store, "alice-1", user_id="alice", runs=[agent_run("ra", "mine")])
    seed_agent_session(store, "bob-1", user_id="bob", runs=[agent_run("rb", "secret plans")])
    return store


@pytest.fixture
async def jwt_client(db: InMemoryDb) -> AsyncIterator[httpx.AsyncClient]:
    auth = AuthConfig(jwt=JwtConfig(key=SECRET, audience=AUDIENCE))
    async for client in asgi_client(create_app(dbs=[db], auth=auth)):
        yield client


@pytest.fixture
async def key_client(db: InMemoryDb) -> AsyncIterator[httpx.AsyncClient]:
    async for client in asgi_client(create_app(dbs=[db], auth=AuthConfig(security_key="s3cret"))):
        yield client


# -- security key ------------------------------------------------------------------------------


async def test_security_key_required(key_client: httpx.AsyncClient) -> None:
    missing = await key_client.get("/sessions")
    wrong = await key_client.get("/sessions", headers=bearer("nope"))
    right = await key_client.get("/sessions", headers=bearer("s3cret"))

    assert missing.status_code == wrong.status_code == 401
    assert missing.json() == {"detail": "Authorization header required"}
    assert wrong.json() == {"detail": "Invalid authentication token"}
    assert right.status_code == 200
    assert len(right.json()["data"]) == 2  # a key holder is not scoped to a user


async def test_health_needs_no_token_but_config_does(key_client: httpx.AsyncClient) -> None:
    assert (await key_client.get("/health")).status_code == 200
    assert (await key_client.get("/config")).status_code == 401
    assert (await key_client.get("/config", headers=bearer("s3cret"))).status_code == 200


async def test_auth_off_by_default(db: InMemoryDb) -> None:
    async for client in asgi_client(create_app(dbs=[db])):
        assert (await client.get("/sessions", headers=bearer("anything"))).status_code == 200


# -- JWT: bad tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Authorization header required"),
        (bearer("not-a-jwt"), "Invalid token"),
        (bearer(token(key="another-secret-that-is-long-enough-for-hs256")), "Invalid token"),
        (bearer(token(aud="someone-else")), "Invalid token audience"),
        (bearer(token(aud=None)), "Invalid token audience"),
        (bearer(token(expires_in=-60)), "Token has expired"),
        (bearer(token(sub=None)), "Invalid token subject"),
    ],
    ids=["no-token", "garbage", "bad-signature", "wrong-audience", "no-audience", "expired", "no-subject"],
)
async def test_bad_tokens_are_401(
    jwt_client: httpx.AsyncClient, headers: dict[str, str], detail: str
) -> None:
    response = await jwt_client.get("/sessions", headers=headers)

    assert response.status_code == 401
    assert response.json()["detail"].startswith(detail)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("scopes", "method", "path", "body"),
    [
        (["sessions:write"], "GET", "/sessions", None),
        (["sessions:write"], "GET", "/sessions/alice-1/runs", None),
        (["sessions:read"], "POST", "/sessions", {}),
        (["sessions:read"], "PATCH", "/sessions/alice-1", {"session_name": "x"}),
        (["sessions:read"], "POST", "/sessions/alice-1/rename", {"session_name": "x"}),
        (["sessions:read", "sessions:write"], "DELETE", "/sessions/alice-1", None),
        (
            "sessions:read sessions:write",
            "DELETE",
            "/sessions",
            {"session_ids": ["a"], "session_types": ["agent"]},
        ),
    ],
)
async def test_missing_scope_is_403(
    db: InMemoryDb,
    jwt_client: httpx.AsyncClient,
    scopes: list[str] | str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    response = await jwt_client.request(method, path, json=body, headers=bearer(token(scopes=scopes)))

    assert response.status_code == 403
    assert "Insufficient permissions" in response.json()["detail"]
    assert db.get_session("alice-1").get_session_name() == "mine"  # nothing changed


# -- JWT: isolation ----------------------------------------------------------------------------


async def test_caller_lists_only_its_own_sessions(jwt_client: httpx.AsyncClient) -> None:
    own = await jwt_client.get("/sessions", headers=bearer(token("alice")))
    peeking = await jwt_client.get("/sessions", params={"user_id": "bob"}, headers=bearer(token("alice")))

    assert [s["session_id"] for s in own.json()["data"]] == ["alice-1"]
    assert [s["session_id"] for s in peeking.json()["data"]] == ["alice-1"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/sessions/bob-1", None),
        ("GET", "/sessions/bob-1?user_id=bob", None),
        ("GET", "/sessions/bob-1/runs", None),
        ("GET", "/sessions/bob-1/run-previews", None),
        ("GET", "/sessions/bob-1/runs/rb", None),
        ("PATCH", "/sessions/bob-1", {"session_name": "pwned"}),
        ("POST", "/sessions/bob-1/rename", {"session_name": "pwned"}),
    ],
)
async def test_another_users_session_is_404_and_untouched(
    db: InMemoryDb, jwt_client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await jwt_client.request(method, path, json=body, headers=bearer(token("alice")))

    assert response.status_code == 404
    assert "secret plans" not in response.text
    assert db.get_session("bob-1").get_session_name() == "secret plans"


async def test_deleting_another_users_sessions_deletes_nothing(
    db: InMemoryDb, jwt_client: httpx.AsyncClient
) -> None:
    alice = bearer(token("alice"))

    single = await jwt_client.delete("/sessions/bob-1", headers=alice)
    bulk = await jwt_client.request(
        "DELETE", "/sessions", json={"session_ids": ["bob-1"], "session_types": ["agent"]}, headers=alice
    )

    assert single.status_code == bulk.status_code == 204
    assert db.get_session("bob-1").user_id == "bob"


async def test_create_belongs_to_the_caller_whatever_the_body_says(
    db: InMemoryDb, jwt_client: httpx.AsyncClient
) -> None:
    response = await jwt_client.post(
        "/sessions", json={"session_id": "new", "user_id": "bob"}, headers=bearer(token("alice"))
    )

    assert response.status_code == 201
    assert response.json()["user_id"] == "alice"
    assert db.get_session("new").user_id == "alice"


async def test_caller_changes_its_own_session(db: InMemoryDb, jwt_client: httpx.AsyncClient) -> None:
    alice = bearer(token("alice"))

    patched = await jwt_client.patch("/sessions/alice-1", json={"session_name": "renamed"}, headers=alice)
    deleted = await jwt_client.delete("/sessions/alice-1", headers=alice)

    assert patched.status_code == 200 and patched.json()["session_name"] == "renamed"
    assert deleted.status_code == 204
    assert (await jwt_client.get("/sessions/alice-1", headers=alice)).status_code == 404


async def test_owned_by_another_user_does_not_leak_to_a_scoped_caller(
    db: InMemoryDb, jwt_client: httpx.AsyncClient
) -> None:
    def refuse(*args: object, **kwargs: object) -> Any:
        raise SessionOwnedByAnotherUser("alice-1")

    db.update_session = refuse  # type: ignore[method-assign]

    response = await jwt_client.patch(
        "/sessions/alice-1", json={"session_name": "x"}, headers=bearer(token("alice"))
    )

    assert response.status_code == 404
    assert "another user" not in response.json()["detail"]


@pytest.mark.parametrize("admin_scope", ["agent_os:admin", "sessions:admin"])
async def test_admin_sees_and_filters_every_user(jwt_client: httpx.AsyncClient, admin_scope: str) -> None:
    admin = bearer(token("root", scopes=[admin_scope]))

    everything = await jwt_client.get("/sessions", headers=admin)
    bobs = await jwt_client.get("/sessions", params={"user_id": "bob"}, headers=admin)
    bob_session = await jwt_client.get("/sessions/bob-1", headers=admin)
    created = await jwt_client.post(
        "/sessions", json={"session_id": "for-carol", "user_id": "carol"}, headers=admin
    )

    assert {s["session_id"] for s in everything.json()["data"]} == {"alice-1", "bob-1"}
    assert [s["session_id"] for s in bobs.json()["data"]] == ["bob-1"]
    assert bob_session.status_code == 200
    assert created.json()["user_id"] == "carol"


async def test_admin_token_needs_no_subject(jwt_client: httpx.AsyncClient) -> None:
    response = await jwt_client.get("/sessions", headers=bearer(token(sub=None, scopes=["agent_os:admin"])))

    assert response.status_code == 200


async def test_oauth_scope_claim_is_read(jwt_client: httpx.AsyncClient) -> None:
    claims = {"sub": "alice", "aud": AUDIENCE, "scope": "sessions:read", "exp": int(time.time()) + 60}

    response = await jwt_client.get(
        "/sessions", headers=bearer(jwt.encode(claims, SECRET, algorithm="HS256"))
    )

    assert response.status_code == 200


# -- RS256 and mixed -----------------------------------------------------------------------------


async def test_rs256_tokens_verify_with_the_public_key(db: InMemoryDb) -> None:
    auth = AuthConfig(jwt=JwtConfig(key=RSA_PUBLIC, algorithms=["RS256"], audience=AUDIENCE))
    async for client in asgi_client(create_app(dbs=[db], auth=auth)):
        signed = await client.get("/sessions", headers=bearer(token(key=RSA_PRIVATE, algorithm="RS256")))
        # An HS256 token "signed" with the public key must not pass (algorithm confusion).
        forged = await client.get("/sessions", headers=bearer(_hs256_signed_with(RSA_PUBLIC)))

        assert signed.status_code == 200
        assert [s["session_id"] for s in signed.json()["data"]] == ["alice-1"]
        assert forged.status_code == 401


def _hs256_signed_with(key: str) -> str:
    import base64
    import hashlib
    import hmac
    import json

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"sub": "alice", "aud": AUDIENCE, "exp": int(time.time()) + 60}).encode())
    signature = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


async def test_security_key_also_works_alongside_jwt(db: InMemoryDb) -> None:
    auth = AuthConfig(security_key="s3cret", jwt=JwtConfig(key=SECRET))
    async for client in asgi_client(create_app(dbs=[db], auth=auth)):
        with_key = await client.get("/sessions", headers=bearer("s3cret"))
        with_jwt = await client.get("/sessions", headers=bearer(token("bob", aud=None)))

        assert len(with_key.json()["data"]) == 2
        assert [s["session_id"] for s in with_jwt.json()["data"]] == ["bob-1"]


# -- exposure warning ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "auth", "warned"),
    [
        ("127.0.0.1", None, False),
        ("localhost", None, False),
        ("::1", None, False),
        ("0.0.0.0", None, True),
        ("192.168.1.10", AuthConfig(), True),
        ("0.0.0.0", AuthConfig(security_key="k"), False),
    ],
)
def test_warns_loudly_when_exposed_without_auth(
    caplog: pytest.LogCaptureFixture, host: str, auth: AuthConfig | None, warned: bool
) -> None:
    with caplog.at_level(logging.WARNING, logger="sessiondb.api"):
        assert warn_if_exposed(host, auth) is warned

    assert ("AUTH IS OFF" in caplog.text) is warned
