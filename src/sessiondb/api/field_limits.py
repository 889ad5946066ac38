"""Caps on the fields of JSON request bodies: a body over one is a 422 that names the field.

The body-size cap (:mod:`sessiondb.api.limits`) bounds a request as a whole; these bound what
a body that fits may still hold:

* ``session_name``: it is kept in an indexed column and sent back in every listing item;
  PostgreSQL cannot index a key of more than about 2,700 bytes at all.
* ids (``session_id``, ``user_id``, ``agent_id``, ``team_id``, ``workflow_id`` and each of
  ``session_ids``): they are primary and index keys, and go into URLs and headers.
* nesting depth of objects and arrays: the JSON encoder refuses values nested more than 254
  levels deep, which would otherwise surface as a 500 when the session is stored or returned.
* values no store can hold, anywhere in the body: a lone surrogate (``"\\ud800"``, which no
  UTF-8 encoder accepts: a 500 before), and ``NaN``, ``Infinity`` or ``1e400`` (Python's JSON
  parser reads them; the stores' encoder wrote them as ``null``, so the value was lost).

A new ``session_id`` must also be addressable in a URL: one holding ``/``, or one that is
``.`` or ``..``, could never be read, changed or deleted through ``/sessions/{session_id}``
(servers split paths on ``/`` even when percent-encoded, and clients resolve dot segments),
and ``x/runs`` would even be taken for the runs of ``x``; for the same reason a path holding
``%2F`` is a 404 (:func:`refuse_encoded_slashes`).

Both checks run in one app-wide dependency, :func:`screen_request`; the body check reads the
body FastAPI parses anyway (Starlette caches it), so a request is parsed once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError

DEFAULT_MAX_NAME_CHARS = 512
"""512 characters: a long title, and (at 4 bytes a character) inside PostgreSQL's index key limit."""

DEFAULT_MAX_ID_CHARS = 255
"""255 characters: far beyond a UUID (36), and short enough for every index the id is part of."""

DEFAULT_MAX_DEPTH = 64
"""64 levels of objects and arrays: generous for a ``session_state``."""

MAX_SUPPORTED_DEPTH = 200
"""The highest ``max_depth`` accepted: a stored state sits two levels below the body's top
(``session_data.session_state``), and responses wrap it again, all under the encoder's 254."""

ID_FIELDS = ("session_id", "user_id", "agent_id", "team_id", "workflow_id")
"""Top-level body fields that hold an id."""

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, kw_only=True)
class FieldLimits:
    """Per-field caps on JSON request bodies (see the module docstring for why each exists).

    Attributes:
        max_name_chars: the longest ``session_name`` accepted.
        max_id_chars: the longest id accepted in a body.
        max_depth: the deepest nesting of objects and arrays accepted (``{"a": []}`` is 2).
    """

    max_name_chars: int = DEFAULT_MAX_NAME_CHARS
    max_id_chars: int = DEFAULT_MAX_ID_CHARS
    max_depth: int = DEFAULT_MAX_DEPTH

    def __post_init__(self) -> None:
        """Refuse limits that are not positive, or a depth the JSON encoder cannot honour.

        Raises:
            ValueError: a limit is below 1, or ``max_depth`` is over :data:`MAX_SUPPORTED_DEPTH`.
        """
        for name in ("max_name_chars", "max_id_chars", "max_depth"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.max_depth > MAX_SUPPORTED_DEPTH:
            raise ValueError(f"max_depth must be at most {MAX_SUPPORTED_DEPTH}, not {self.max_depth}")


def _has_surrogate(text: str) -> bool:
    # Python's JSON parser turns "\ud800" into a lone surrogate, which no UTF-8 encoder (the
    # databases', the response's) accepts. Encoding is the cheap C check; the error is rare.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_Trail = tuple[Any, str | int] | None
"""Where a value sits: ``(parent's trail, key)``, built only into a path when it is reported."""


def _path(trail: _Trail) -> list[str | int]:
    path: list[str | int] = []
    while trail is not None:
        trail, key = trail
        path.append(key)
    return path[::-1]


def _bad_scalar(value: Any) -> str | None:
    """What makes a scalar unstorable, or ``None`` (see :func:`_scan`)."""
    if isinstance(value, str):
        return "a lone surrogate (an unpaired \\ud800-\\udfff escape)" if _has_surrogate(value) else None
    if isinstance(value, float) and not math.isfinite(value):
        return f"a number JSON cannot hold ({value}); send a finite number"
    return None


def _scan(body: Any, max_depth: int) -> dict[str, Any] | None:
    """The error item for the first value in ``body`` that cannot be stored, or ``None``.

    That is a container nested deeper than ``max_depth``, a string or key holding a lone
    surrogate (``"\\ud800"``), or a number that is not finite: Python's JSON parser reads
    ``NaN``, ``Infinity`` and ``1e400`` as floats that no JSON encoder writes back (the stores'
    write them as ``null``, so the value would be silently lost). Iterative, so that a hostile
    body cannot exhaust the interpreter's stack here; a path is built only for the error.
    """
    problem = _bad_scalar(body)
    if problem is not None:
        return _unstorable(None, problem)
    stack: list[tuple[Any, int, _Trail]] = [(body, 1, None)]
    while stack:
        value, depth, trail = stack.pop()
        if isinstance(value, dict):
            children: Any = value.items()
            for key in value:
                if isinstance(key, str) and _has_surrogate(key):
                    return _unstorable(
                        trail, "a key holding a lone surrogate (an unpaired \\ud800-\\udfff escape)"
                    )
        elif isinstance(value, list):
            children = enumerate(value)
        else:
            continue
        if depth > max_depth:
            return {
                "type": "too_deeply_nested",
                "loc": ["body", *_path(trail)],
                "msg": f"Value is nested more than {max_depth} levels deep",
                "input": None,
                "ctx": {"max_depth": max_depth},
            }
        for key, child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1, (trail, key)))
                continue
            problem = _bad_scalar(child)
            if problem is not None:
                return _unstorable((trail, key), problem)
    return None


def _unstorable(trail: _Trail, what: str) -> dict[str, Any]:
    # A key with a surrogate cannot be echoed in "loc" either: it is replaced, for the response.
    shown = [key.encode("utf-8", "replace").decode() if isinstance(key, str) else key for key in _path(trail)]
    return {"type": "value_error", "loc": ["body", *shown], "msg": f"Value holds {what}", "input": None}


def _too_long(loc: list[str | int], limit: int) -> dict[str, Any]:
    # The offending value is not echoed back: it may be megabytes long.
    return {
        "type": "string_too_long",
        "loc": ["body", *loc],
        "msg": f"String should have at most {limit} characters",
        "input": None,
        "ctx": {"max_length": limit},
    }


def field_limit_errors(body: Any, limits: FieldLimits) -> list[dict[str, Any]]:
    """What in a parsed JSON body breaks ``limits``, as FastAPI validation-error items.

    Args:
        body: the parsed body.
        limits: the caps to apply.

    Returns:
        One item per broken cap (empty when the body is within all of them).
    """
    unstorable = _scan(body, limits.max_depth)
    if unstorable is not None:
        return [unstorable]
    if not isinstance(body, dict):
        return []
    errors: list[dict[str, Any]] = []
    name = body.get("session_name")
    if isinstance(name, str) and len(name) > limits.max_name_chars:
        errors.append(_too_long(["session_name"], limits.max_name_chars))
    for field in ID_FIELDS:
        value = body.get(field)
        if isinstance(value, str) and len(value) > limits.max_id_chars:
            errors.append(_too_long([field], limits.max_id_chars))
    session_id = body.get("session_id")
    if isinstance(session_id, str) and ("/" in session_id or session_id in (".", "..")):
        errors.append(
            {
                "type": "value_error",
                "loc": ["body", "session_id"],
                "msg": "session_id must not contain '/' nor be '.' or '..': it could not be used in a URL",
                "input": session_id if len(session_id) <= limits.max_id_chars else None,
            }
        )
    ids = body.get("session_ids")
    if isinstance(ids, list):
        for index, value in enumerate(ids):
            if isinstance(value, str) and len(value) > limits.max_id_chars:
                errors.append(_too_long(["session_ids", index], limits.max_id_chars))
    return errors


def _is_json(content_type: str | None) -> bool:
    # FastAPI parses a body without a content type as JSON too.
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def enforce_field_limits(request: Request) -> None:
    """App-wide check (run by :func:`screen_request`): a 422 naming the field for a JSON body over a cap.

    Bodies that are not JSON, or not valid JSON, are left to the route, which answers for them.

    Raises:
        RequestValidationError: the body breaks a cap of ``app.state.field_limits``.
    """
    if request.method not in _BODY_METHODS or not _is_json(request.headers.get("content-type")):
        return
    if not await request.body():
        return
    try:
        body = await request.json()
    except (ValueError, RecursionError):
        return
    limits: FieldLimits = getattr(request.app.state, "field_limits", None) or FieldLimits()
    errors = field_limit_errors(body, limits)
    if errors:
        raise RequestValidationError(errors)


async def refuse_encoded_slashes(request: Request) -> None:
    """App-wide check (run by :func:`screen_request`): a 404 for a path with a percent-encoded ``/``.

    The server decodes ``%2F`` before routing, so ``/sessions/x%2Fruns`` would be served as
    the runs of session ``x``. No id the API creates holds ``/`` (see the module docstring),
    so such a path names nothing, and says so instead of naming something else.

    Raises:
        HTTPException: 404 when the raw path holds ``%2F``.
    """
    raw_path: bytes = request.scope.get("raw_path") or b""
    # Some servers (and test transports) leave the query string on raw_path; %2F is fine there.
    if b"%2f" in raw_path.partition(b"?")[0].lower():
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "Not Found: no id holds '/', so a path with %2F names nothing"
        )


async def screen_request(request: Request) -> None:
    """App-wide dependency: :func:`refuse_encoded_slashes`, then :func:`enforce_field_limits`.

    One dependency rather than two: FastAPI's cost of solving one, on every request, is
    larger than that of either check.

    Raises:
        HTTPException: 404 for a path with ``%2F``.
        RequestValidationError: the body breaks a cap.
    """
    await refuse_encoded_slashes(request)
    await enforce_field_limits(request)
