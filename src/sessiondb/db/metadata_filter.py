"""What ``SessionQuery(metadata=...)`` matches, as pure data every backend agrees on.

A filter is a JSON object; a session matches when its metadata *contains* it:

- an object value matches an object holding at least its keys, each matching recursively
  (``{"a": {"x": 1}}`` matches ``{"a": {"x": 1, "y": 2}}``), and ``{}`` matches any object;
- any other value must be equal: strings, booleans and ``null`` exactly, numbers by value
  (``1`` equals ``1.0``, never ``true``), arrays whole (same items in the same order).

The filter is flattened into *leaves*, one per non-object value (and per empty object), each
with its path from the top; the SQL checks each leaf, and the
leaves' paths and values are bound (see :mod:`sessiondb.db._sql.metadata`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from sessiondb.db.errors import InvalidQuery

LeafKind = Literal["text", "number", "true", "false", "null", "array", "object"]

MAX_DEPTH = 32
"""How deep a filter may nest objects (a deeper one is refused, not silently cut)."""

MAX_LEAVES = 32
"""How many values a filter may hold: each is one test in the SQL (and part of its shape)."""


@dataclass(frozen=True)
class Leaf:
    """One value the metadata must hold at ``path``.

    Attributes:
        path: the keys from the top of the metadata object.
        kind: the JSON type expected there (``object`` only for an empty object).
        value: the expected value (``None`` for the kinds that carry none).
    """

    path: tuple[str, ...]
    kind: LeafKind
    value: Any


def _kind(value: Any) -> LeafKind:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise InvalidQuery("metadata", f"numbers must be finite, not {value!r}")
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    raise InvalidQuery("metadata", f"values must be JSON, not {type(value).__name__}")


def _check_key(key: Any) -> str:
    if not isinstance(key, str):
        raise InvalidQuery("metadata", f"keys must be strings, not {key!r}")
    # SQLite's JSON paths cannot quote a '"'; PostgreSQL text refuses NUL. Refused everywhere.
    if '"' in key or "\x00" in key:
        raise InvalidQuery("metadata", f"key {key!r} must not contain '\"' or a NUL character")
    return key


def metadata_leaves(metadata: Mapping[str, Any]) -> list[Leaf]:
    """The leaves of a filter, depth first in key order.

    Raises:
        InvalidQuery: a key is not a string or holds ``"``/NUL, a value is not JSON, or the
            filter nests deeper than :data:`MAX_DEPTH`.
    """
    leaves: list[Leaf] = []

    def walk(node: Mapping[str, Any], path: tuple[str, ...]) -> None:
        if len(path) >= MAX_DEPTH:
            raise InvalidQuery("metadata", f"must not nest deeper than {MAX_DEPTH} levels")
        for key, value in node.items():
            here = (*path, _check_key(key))
            kind = _kind(value)
            if kind == "object" and value:
                walk(value, here)
                continue
            if kind == "array":
                _json_text(value)  # refuse a non-JSON item now, with the parameter named
            leaves.append(Leaf(here, kind, list(value) if kind == "array" else _scalar(kind, value)))

    walk(metadata, ())
    if len(leaves) > MAX_LEAVES:
        raise InvalidQuery("metadata", f"must hold at most {MAX_LEAVES} values, not {len(leaves)}")
    return leaves


def _scalar(kind: LeafKind, value: Any) -> Any:
    return value if kind in ("text", "number") else None


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError as error:
        raise InvalidQuery("metadata", f"values must be JSON: {error}") from error


def json_equal(left: Any, right: Any) -> bool:
    """Equality of two decoded JSON values, as JSON: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    return type(left) is type(right) and bool(left == right)


def leaf_matches(metadata: Any, leaf: Leaf) -> bool:
    """Whether the decoded ``metadata`` holds ``leaf`` (the reference the SQL backends follow)."""
    node = metadata
    for key in leaf.path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    if node is None:
        return leaf.kind == "null"
    kind = _kind(node)
    if kind in ("true", "false", "null", "object"):
        return kind == leaf.kind
    if kind != leaf.kind:
        return False
    return json_equal(node, leaf.value)


def metadata_matches(metadata: Any, leaves: list[Leaf]) -> bool:
    """Whether ``metadata`` contains the filter flattened into ``leaves``."""
    return isinstance(metadata, dict) and all(leaf_matches(metadata, leaf) for leaf in leaves)


def sqlite_path(path: tuple[str, ...]) -> str:
    """The SQLite JSON path of ``path`` (each key quoted)."""
    return "$" + "".join(f'."{key}"' for key in path)


def postgres_arrays(leaves: list[Leaf]) -> str:
    """The array leaves as the PostgreSQL statement reads them: ``[[path keys, array], ...]``.

    ``@>`` checks everything else; an array there only needs to contain the filter's items.
    """
    return orjson.dumps([[list(leaf.path), leaf.value] for leaf in leaves if leaf.kind == "array"]).decode()
