"""Who is calling: no auth, a shared security key, or JWT bearer tokens with scopes.

* **Off** (the default, for local use): every caller is an anonymous admin.
* **Security key** (``OS_SECURITY_KEY`` in Agno): the bearer token must equal the key; the
  caller is an unscoped admin. Wrong or missing: 401 "Invalid authentication token" /
  "Authorization header required".
* **JWT** (PyJWT, HS256 or RS256, optional audience): the token's ``sub`` is the caller's user
  and its scopes say what it may do: ``sessions:read``, ``sessions:write``,
  ``sessions:delete``. Without an admin scope a caller only ever sees and changes sessions of
  its own ``sub`` (spec, point 5). When a security key is configured as well, a token equal
  to it is accepted as an admin.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field

import jwt
from fastapi import HTTPException, status

READ_SCOPE = "sessions:read"
WRITE_SCOPE = "sessions:write"
DELETE_SCOPE = "sessions:delete"
DEFAULT_ADMIN_SCOPES = ("agent_os:admin", "sessions:admin")
"""Scopes that lift per-user isolation; ``agent_os:admin`` is Agno's admin scope."""


@dataclass(frozen=True, kw_only=True)
class JwtConfig:
    """How bearer JWTs are verified.

    Attributes:
        key: the HS256 shared secret, or the RS256 public key (PEM).
        algorithms: accepted signing algorithms.
        audience: when set, tokens must carry it in ``aud``.
        issuer: when set, tokens must carry it in ``iss``.
        user_claim: the claim that names the user.
        scopes_claim: the claim that lists scopes (a list, or a space-separated string);
            the OAuth ``scope`` claim is read too.
        admin_scopes: scopes that grant access to every user's sessions.
        leeway_seconds: clock skew allowed on ``exp`` and ``nbf``.
    """

    key: str
    algorithms: Sequence[str] = ("HS256",)
    audience: str | None = None
    issuer: str | None = None
    user_claim: str = "sub"
    scopes_claim: str = "scopes"
    admin_scopes: Sequence[str] = DEFAULT_ADMIN_SCOPES
    leeway_seconds: int = 0


@dataclass(frozen=True, kw_only=True)
class AuthConfig:
    """What the server accepts. With neither field set, auth is off.

    Attributes:
        security_key: a shared bearer token.
        jwt: JWT verification settings.
    """

    security_key: str | None = None
    jwt: JwtConfig | None = None

    @property
    def enabled(self) -> bool:
        """Whether callers must present a token."""
        return bool(self.security_key) or self.jwt is not None


@dataclass(frozen=True)
class Principal:
    """The caller of one request.

    Attributes:
        user_id: the JWT subject; ``None`` for the anonymous or security-key caller.
        scopes: scopes granted by the token (empty for callers that are not scoped).
        admin: whether the caller may act on every user's sessions.
        scoped: whether scopes are enforced at all (JWT callers only).
    """

    user_id: str | None
    scopes: frozenset[str] = field(default_factory=frozenset)
    admin: bool = True
    scoped: bool = False

    def may(self, scope: str) -> bool:
        """Whether the caller holds ``scope`` (unscoped callers and admins hold every scope)."""
        return not self.scoped or self.admin or scope in self.scopes

    def user_filter(self, requested: str | None) -> str | None:
        """The ``user_id`` to apply in the store: the caller's own unless it is an admin."""
        return requested if self.admin else self.user_id


ANONYMOUS = Principal(user_id=None)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def _scopes_of(claims: dict[str, object], scopes_claim: str) -> frozenset[str]:
    found: set[str] = set()
    for name in (scopes_claim, "scope"):
        value = claims.get(name)
        if isinstance(value, str):
            found.update(value.split())
        elif isinstance(value, list):
            found.update(item for item in value if isinstance(item, str))
    return frozenset(found)


def _verify_jwt(token: str, config: JwtConfig) -> Principal:
    try:
        claims = jwt.decode(
            token,
            config.key,
            algorithms=list(config.algorithms),
            audience=config.audience,
            issuer=config.issuer,
            leeway=config.leeway_seconds,
            options={"verify_aud": config.audience is not None},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorized("Token has expired") from exc
    except (jwt.InvalidAudienceError, jwt.MissingRequiredClaimError) as exc:
        raise _unauthorized(f"Invalid token audience: {exc}") from exc
    except jwt.InvalidTokenError as exc:
        raise _unauthorized(f"Invalid token: {exc}") from exc
    scopes = _scopes_of(claims, config.scopes_claim)
    admin = any(scope in scopes for scope in config.admin_scopes)
    subject = claims.get(config.user_claim)
    user_id = subject if isinstance(subject, str) and subject else None
    if user_id is None and not admin:
        # Fail closed: a non-admin token without a subject would otherwise see every user's data.
        raise _unauthorized("Invalid token subject")
    return Principal(user_id=user_id, scopes=scopes, admin=admin, scoped=True)


def authenticate(config: AuthConfig, token: str | None) -> Principal:
    """The caller presenting ``token`` (the bearer credential, or ``None`` when absent).

    Raises:
        HTTPException: 401 when auth is on and the token is missing or does not verify.
    """
    if not config.enabled:
        return ANONYMOUS
    if not token:
        raise _unauthorized("Authorization header required")
    # Compared in constant time so the position of the first mismatch cannot be timed.
    if config.security_key and hmac.compare_digest(token.encode(), config.security_key.encode()):
        return ANONYMOUS
    if config.jwt is not None:
        return _verify_jwt(token, config.jwt)
    raise _unauthorized("Invalid authentication token")


def forbidden(scope: str) -> HTTPException:
    """The 403 for a caller that lacks ``scope``."""
    return HTTPException(status.HTTP_403_FORBIDDEN, f"Insufficient permissions: requires {scope!r}")
