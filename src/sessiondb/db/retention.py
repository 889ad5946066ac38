"""Retention: which sessions a policy removes, and what a purge or a retention run did.

Pure data and parsing, no I/O: the stores select and delete (SQL in
:mod:`sessiondb.db._sql.retention`), ``sessiondb retention`` and ``serve --retention`` call them.

A policy file (TOML; ``serve --retention FILE``) holds one or more ``[[policy]]`` tables::

    interval = "1h"            # how often serve applies them (default 1h)

    [[policy]]
    inactive_for = "30d"       # or older_than = "90d" (exactly one of the two)
    session_type = "agent"     # optional filters: user_id, session_type, component_id
    hard = false               # with soft delete on, true deletes for good at once
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from sessiondb.db.query import SESSION_TYPES
from sessiondb.session.base import SessionType

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

DEFAULT_INTERVAL: Final = timedelta(hours=1)
"""How often ``serve --retention`` applies its policies unless the file says otherwise."""


def parse_duration(text: str, *, name: str = "duration") -> timedelta:
    """``"90d"``, ``"12h"``, ``"30m"``, ``"45s"`` or ``"2w"`` as a ``timedelta``.

    Raises:
        ValueError: not a whole number followed by one of s, m, h, d, w; the message names ``name``.
    """
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{name} must be a whole number and a unit (s, m, h, d or w), such as 30d, not {text!r}"
        )
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True, kw_only=True)
class RetentionPolicy:
    """Which sessions to remove: too old, or inactive too long, optionally of one user, type or component.

    Attributes:
        older_than: remove sessions created longer ago than this.
        inactive_for: remove sessions not updated for this long.
        user_id / session_type / component_id: only such sessions (``component_id`` is the
            agent, team or workflow id, as in a listing).
        hard: delete for good even when the store keeps deleted sessions in the trash.
    """

    older_than: timedelta | None = None
    inactive_for: timedelta | None = None
    user_id: str | None = None
    session_type: SessionType | None = None
    component_id: str | None = None
    hard: bool = False

    def __post_init__(self) -> None:
        if (self.older_than is None) == (self.inactive_for is None):
            raise ValueError("a retention policy needs exactly one of older_than and inactive_for")
        age = self.older_than if self.older_than is not None else self.inactive_for
        if age is not None and age <= timedelta(0):
            raise ValueError(f"a retention age must be positive, not {age}")
        if self.session_type is not None and self.session_type not in SESSION_TYPES:
            raise ValueError(f"session_type must be one of {SESSION_TYPES}, not {self.session_type!r}")

    def cutoff(self, now: int) -> tuple[str, int]:
        """The column compared and the time before which a session goes (unix seconds)."""
        if self.older_than is not None:
            return "created_at", now - int(self.older_than.total_seconds())
        assert self.inactive_for is not None
        return "updated_at", now - int(self.inactive_for.total_seconds())


@dataclass(frozen=True)
class RetentionPreview:
    """What a policy would remove now (a dry run).

    Attributes:
        sessions / runs: how many sessions, and runs in them.
        session_ids: the first of those sessions' ids (up to the limit asked for), by id.
    """

    sessions: int
    runs: int
    session_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RetentionReport:
    """What a retention run removed.

    Attributes:
        sessions / runs: how many sessions were deleted (or put in the trash), and their runs.
        soft: whether they went to the trash rather than for good.
    """

    sessions: int
    runs: int
    soft: bool


@dataclass(frozen=True)
class PurgeReport:
    """What a purge removed for good: sessions whose time in the trash was up (and their runs),
    and recorded changes older than the store's window."""

    sessions: int
    runs: int
    changes: int


@dataclass(frozen=True)
class RetentionFile:
    """A policy file: the policies and how often to apply them."""

    policies: list[RetentionPolicy]
    interval: timedelta


_POLICY_KEYS: Final = frozenset(
    {"older_than", "inactive_for", "user_id", "session_type", "component_id", "hard"}
)


def _policy(index: int, table: Any) -> RetentionPolicy:
    where = f"policy #{index + 1}"
    if not isinstance(table, dict):
        raise ValueError(f"{where}: must be a table")
    unknown = sorted(set(table) - _POLICY_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; known: {sorted(_POLICY_KEYS)}")
    values: dict[str, Any] = {}
    for key in ("older_than", "inactive_for"):
        if key in table:
            values[key] = parse_duration(table[key], name=f"{where}: {key}")
    for key in ("user_id", "session_type", "component_id"):
        if key in table:
            if not isinstance(table[key], str):
                raise ValueError(f"{where}: {key} must be a string")
            values[key] = table[key]
    if "hard" in table:
        if not isinstance(table["hard"], bool):
            raise ValueError(f"{where}: hard must be true or false")
        values["hard"] = table["hard"]
    try:
        return RetentionPolicy(**values)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def parse_retention_file(text: str, *, source: str = "retention file") -> RetentionFile:
    """Parse a policy file (see the module docstring).

    Raises:
        ValueError: not valid TOML, no policy, or a policy or the interval is invalid; the
            message names ``source`` and the policy.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"policy", "interval"})
    if unknown:
        raise ValueError(f"{source}: unknown key(s) {unknown}; known: ['interval', 'policy']")
    tables = data.get("policy")
    if not isinstance(tables, list) or not tables:
        raise ValueError(f"{source}: no [[policy]] table")
    try:
        policies = [_policy(index, table) for index, table in enumerate(tables)]
        interval = (
            parse_duration(data["interval"], name="interval") if "interval" in data else DEFAULT_INTERVAL
        )
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None
    if interval <= timedelta(0):
        raise ValueError(f"{source}: interval must be positive")
    return RetentionFile(policies, interval)


def load_retention_file(path: Path) -> RetentionFile:
    """Read and parse a policy file.

    Raises:
        ValueError: see :func:`parse_retention_file`.
        OSError: the file cannot be read.
    """
    return parse_retention_file(path.read_text(), source=str(path))
