"""Render arbitrary run inputs and outputs as text."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel


def to_text(value: Any, *, indent: bool = False) -> str:
    """Return ``value`` as text: ``""`` for None, strings unchanged, models and containers as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    option = orjson.OPT_INDENT_2 if indent else 0
    if isinstance(value, BaseModel):
        return orjson.dumps(value.model_dump(mode="json"), option=option).decode()
    if isinstance(value, dict | list):
        try:
            return orjson.dumps(value, option=option, default=str).decode()
        except TypeError:
            return str(value)
    return str(value)
