"""Merging ``session_state`` dicts: the precedence rule of the runtime (spec §5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge_dictionaries(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``b`` into ``a`` recursively and return the result; ``b`` wins on conflicts.

    Where both hold a dict under the same key the two are merged the same way; any other
    value of ``b`` replaces ``a``'s. Neither argument is changed: every dict level of the result
    is a new dict, so changing the result never reaches back into ``a`` or ``b``. Values that
    are not dicts (lists, objects) are shared, not copied.

    Unlike Agno's ``merge_dictionaries``, which updates ``a`` in place and returns ``None``,
    this returns the merged dict.

    Args:
        a: the lower-precedence state (for example the one stored in the database).
        b: the higher-precedence state (for example the one passed to the run).

    Returns:
        The merged state.
    """
    merged = _copy_dicts(a)
    for key, value in b.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = merge_dictionaries(current, value)
        else:
            merged[key] = _copy_dicts(value) if isinstance(value, Mapping) else value
    return merged


def _copy_dicts(value: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _copy_dicts(v) if isinstance(v, Mapping) else v for k, v in value.items()}
