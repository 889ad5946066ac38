"""The console's Jinja2 environment: autoescaping always on, and the few filters pages share.

Autoescaping is set explicitly (not left to the file extension): every value a user typed,
names, messages, tool arguments, state, is escaped wherever a template prints it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from sessiondb.api.auth import AuthConfig
from sessiondb.api.registry import StoreRegistry
from sessiondb.console.auth import COOKIE

TEMPLATES = Path(__file__).parent / "templates"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def shown_time(seconds: int | None) -> str:
    """Unix seconds as the console shows them (UTC, to the second)."""
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso_time(seconds: int | None) -> str:
    """Unix seconds in ISO 8601, for ``<time datetime=...>``."""
    return "" if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()


def shown_duration(span: timedelta) -> str:
    """A grace period in words, in its largest whole unit ("7 days", "12 hours", "90 seconds")."""
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _query(values: dict[str, Any]) -> str:
    """A query string of the values that are set (``?a=1&b=2``, or empty)."""
    kept = {key: value for key, value in values.items() if value not in (None, "")}
    return f"?{urlencode(kept)}" if kept else ""


def _segment(value: str) -> str:
    """``value`` as one URL path segment (a ``/`` in a session id is encoded too)."""
    return quote(value, safe="")


_env.filters["when"] = shown_time
_env.filters["seg"] = _segment
_env.filters["iso"] = iso_time
_env.filters["duration"] = shown_duration
_env.globals["query"] = _query


def render(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """Render template ``name`` with what every page needs (databases, whether auth is on)."""
    registry: StoreRegistry = request.app.state.registry
    auth: AuthConfig = request.app.state.auth
    page = {
        "db_ids": registry.ids(),
        "db_id": request.query_params.get("db_id") or registry.ids()[0],
        "auth_on": auth.enabled,
        "logged_in": bool(request.cookies.get(COOKIE)),
        **context,
    }
    html = _env.get_template(name).render(page)
    # The console never embeds other sites' content or runs their scripts: a strict policy
    # makes an escaping slip harmless, and frame-ancestors keeps it out of others' frames.
    headers = {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }
    return HTMLResponse(html, status_code=status_code, headers=headers)
