"""``session_state`` at run time: precedence at the start, clean-up and re-merge at the end.

Precedence (spec §5): the run's state beats the stored state, which beats the runtime's
default; the default only seeds a new session. Merging is recursive
(:func:`~sessiondb.session.state.merge_dictionaries`).

At the end of a run the state is saved by compare-and-set. When another writer changed the
stored state meanwhile, :func:`rebase` re-applies this run's own changes (relative to the state
it started from) onto the fresh stored state, so neither writer's keys are lost.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sessiondb.session.state import merge_dictionaries

RUNTIME_KEYS: tuple[str, ...] = ("current_session_id", "current_user_id", "current_run_id")
"""Keys injected into the state during a run and removed before it is saved."""


def initial_state(
    *,
    stored: Mapping[str, Any] | None,
    is_new_session: bool,
    default: Mapping[str, Any] | None,
    run_state: Mapping[str, Any] | None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """The state a run starts with.

    Args:
        stored: the state saved in the session (``None`` if it has none).
        is_new_session: the session was created by this run; only then does ``default`` apply.
        default: the runtime's default ``session_state``.
        run_state: the state passed to this run.
        overwrite: the run's state replaces the stored one instead of being merged onto it.
    """
    base: dict[str, Any] = copy.deepcopy(dict(stored or {}))
    if is_new_session and default:
        base = merge_dictionaries(copy.deepcopy(dict(default)), base)
    if run_state is None:
        return base
    if overwrite:
        return copy.deepcopy(dict(run_state))
    return merge_dictionaries(base, copy.deepcopy(dict(run_state)))


def inject_runtime_keys(state: dict[str, Any], *, session_id: str, user_id: str | None, run_id: str) -> None:
    """Put ``current_session_id``, ``current_user_id`` and ``current_run_id`` into ``state``."""
    state["current_session_id"] = session_id
    state["current_user_id"] = user_id
    state["current_run_id"] = run_id


def without_runtime_keys(state: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``state`` without the injected runtime keys."""
    return {key: copy.deepcopy(value) for key, value in state.items() if key not in RUNTIME_KEYS}


def rebase(base: Mapping[str, Any], mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> dict[str, Any]:
    """Re-apply the changes that turned ``base`` into ``mine`` onto ``theirs`` (a three-way merge).

    Keys this writer did not touch keep their stored (``theirs``) value. Keys it set win; where
    all three are dicts the merge recurses. Keys it removed are removed. When both writers only
    appended to the same list (``base`` is a prefix of both), both appends are kept; a key both
    added as a dict (or list) is merged as if it had started empty.
    """
    result: dict[str, Any] = copy.deepcopy(dict(theirs))
    for key in set(base) - set(mine):
        result.pop(key, None)
    for key, value in mine.items():
        if key in base and base[key] == value:
            continue
        old, current = base.get(key), result.get(key)
        if key not in base and type(value) is type(current) and isinstance(value, dict | list):
            # Both writers added the key: merge their containers as if it had started empty.
            old = type(value)()
        if isinstance(value, dict) and isinstance(old, dict) and isinstance(current, dict):
            result[key] = rebase(old, value, current)
        elif (
            isinstance(value, list)
            and isinstance(old, list)
            and isinstance(current, list)
            and (value[: len(old)] == old and current[: len(old)] == old)
        ):
            result[key] = copy.deepcopy(current + value[len(old) :])
        else:
            result[key] = copy.deepcopy(value)
    return result


__all__ = ["RUNTIME_KEYS", "initial_state", "inject_runtime_keys", "rebase", "without_runtime_keys"]
