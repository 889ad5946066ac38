"""Statements built once per store and kept exactly as long as the store's tables.

A store builds some statements on first use (the change-feed inserts, the search's, the name
updates) and keeps them for its next calls. They used to be kept in module-level
``WeakKeyDictionary`` objects keyed by the store's ``Table`` (or ``Tables``); but the value, a
statement over that very table, holds its key strongly, so the entry never died and every
store a process had ever opened stayed in memory with its tables, statements and compiled SQL
(about 1,850 objects a store; a test run opens thousands, and each full collection then walked
them all). SQLAlchemy's ``info`` dictionaries, on every ``Table`` and ``MetaData``, live
exactly as long as their owner: what is kept there goes with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy import MetaData, Table

T = TypeVar("T")

_PREFIX = "sessiondb."


def built_once(owner: Table | MetaData, name: str, build: Callable[[], T]) -> T:
    """``build()``'s value, built on the first call for ``owner`` and ``name``, kept in ``owner.info``.

    The entry remembers its owner: a table copied with its ``info`` (``Table.to_metadata``)
    builds its own value instead of reusing statements over the original.
    """
    key = _PREFIX + name
    found: Any = owner.info.get(key)
    if found is None or found[0] is not owner:
        # Two threads may both build it: they build equal values and the last one stays.
        found = owner.info[key] = (owner, build())
    return cast(T, found[1])
