"""The JSON response class every endpoint returns, serialised with orjson."""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response


class JsonResponse(Response):
    """A JSON response rendered by orjson.

    Handlers build plain dicts and return this directly, so FastAPI skips its own
    validation-and-serialisation pass; the response models on the routes document the shapes.
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialise ``content``; values orjson does not know become their ``str``, and so do
        integers past 64 bits, which orjson refuses (a 422 echoes the input it refused, and a
        form field may parse to one)."""
        return json_bytes(content)


def json_bytes(content: Any) -> bytes:
    """``content`` as :class:`JsonResponse` renders it (the body of ``JsonResponse(content)``)."""
    try:
        return orjson.dumps(content, default=str, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        return orjson.dumps(_big_ints_as_text(content), default=str, option=orjson.OPT_NON_STR_KEYS)


_INT64 = range(-(2**63), 2**64)
"""The integers orjson writes (signed and unsigned 64-bit)."""


def _big_ints_as_text(value: Any) -> Any:
    """``value`` with every integer orjson cannot write turned into its decimal text."""
    if isinstance(value, dict):
        return {key: _big_ints_as_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_big_ints_as_text(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        return str(value)
    return value


_FOUR_DIGIT_YEARS = range(0, 253_402_300_800)
"""Whole seconds from 1970 to the end of year 9999: ``strftime`` writes them as ``isoformat`` does."""


@functools.lru_cache(maxsize=4096)
def _iso_seconds(timestamp: int) -> str:
    # Stored times are whole seconds; strftime is twice as fast as building a datetime, and a
    # page of 20 sessions renders 40 of them. The same pages are read again and again (a UI
    # polls its list), so the texts are kept: a hit costs ~0.1 µs against ~4 µs, and 4,096
    # of them hold well under 1 MiB.
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def iso_utc(timestamp: int | float | None) -> str | None:
    """Unix seconds as an ISO 8601 UTC string ending in ``Z``, as Agno's schemas write them."""
    if timestamp is None:
        return None
    if type(timestamp) is int and timestamp in _FOUR_DIGIT_YEARS:
        return _iso_seconds(timestamp)
    text = datetime.fromtimestamp(timestamp, tz=UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"
