"""How to ask for a page of sessions: filters, sort, page or cursor, and what comes back."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import orjson

from sessiondb.db.errors import InvalidQuery
from sessiondb.db.metadata_filter import Leaf, metadata_leaves
from sessiondb.session.base import SessionType

SortField = Literal["created_at", "updated_at", "session_name"]
SortOrder = Literal["asc", "desc"]
SORT_FIELDS: tuple[str, ...] = ("created_at", "updated_at", "session_name")
SESSION_TYPES: tuple[str, ...] = ("agent", "team", "workflow")

T = TypeVar("T")

SQL_INT_MIN = -(2**63)
SQL_INT_MAX = 2**63 - 1
"""The range of a 64-bit SQL ``BIGINT`` (and of SQLite's ``INTEGER``): a bound outside it
cannot be sent to the database at all."""

MAX_PAGE = 2**31 - 1
MAX_LIMIT = 2**31 - 1
"""Upper bounds of ``page`` and ``limit``, chosen so that the page's offset,
``(page - 1) * limit``, always fits a 64-bit integer."""

MAX_RUN_COUNT_IDS = 1000
"""The most session ids one ``run_counts`` call takes: a page of any listing that shows
counts (the console's pages hold at most 200), and one ``IN`` list every engine accepts."""


def run_count_ids(session_ids: Sequence[str]) -> list[str]:
    """The distinct ids of a ``run_counts`` call, in their first order.

    Raises:
        InvalidQuery: more than :data:`MAX_RUN_COUNT_IDS` of them.
    """
    distinct = list(dict.fromkeys(session_ids))
    if len(distinct) > MAX_RUN_COUNT_IDS:
        raise InvalidQuery("session_ids", f"at most {MAX_RUN_COUNT_IDS} ids, not {len(distinct)}")
    return distinct


def check_time_bounds(created_after: int | None, created_before: int | None) -> None:
    """Refuse a ``created_after``/``created_before`` bound no database column can compare with.

    Raises:
        InvalidQuery: a bound is outside the 64-bit integer range, naming it.
    """
    for name, value in (("created_after", created_after), ("created_before", created_before)):
        if value is not None and not SQL_INT_MIN <= value <= SQL_INT_MAX:
            raise InvalidQuery(name, f"must be between {SQL_INT_MIN} and {SQL_INT_MAX}, not {value}")


@dataclass(frozen=True, kw_only=True)
class SessionQuery:
    """Filters, order and window of a session listing.

    Attributes:
        session_type: only sessions of this type.
        component_id: the agent, team or workflow id, matched against the column of
            ``session_type`` (against any of the three when the type is not given).
        user_id: only sessions of this user.
        session_name: case-insensitive substring of the session name (explicit or derived).
        created_after / created_before: inclusive bounds on ``created_at`` (unix seconds).
        sort_by / sort_order: ``created_at`` (default), ``updated_at`` or ``session_name``;
            ties are broken by ``session_id`` so the order is total.
        page / limit: 1-based page of ``limit`` items.
        cursor: a ``next_cursor`` from an earlier page of the same query; when given, ``page``
            is ignored and the page starts right after the cursor's item (keyset pagination).
        metadata: only sessions whose metadata contains this JSON object (see
            :mod:`sessiondb.db.metadata_filter`); ``{}`` or ``None`` filters nothing.
        count_total: count every match for ``Page.total_count`` (the default). ``False``
            skips that count, and ``total_count`` is then the number of items on the page (as
            in search): without a selective filter the count reads every row, 24-37 ms at
            1,000,000 sessions on SQLite against 0.1 ms for the keyset page itself, so a
            caller that pages by cursor and shows no total (the web console) does without it.
        deleted: list the trash (sessions soft-deleted and not yet purged) instead of the
            live sessions.
    """

    session_type: SessionType | None = None
    component_id: str | None = None
    user_id: str | None = None
    session_name: str | None = None
    created_after: int | None = None
    created_before: int | None = None
    sort_by: SortField = "created_at"
    sort_order: SortOrder = "desc"
    page: int = 1
    limit: int = 20
    cursor: str | None = None
    metadata: Mapping[str, Any] | None = None
    count_total: bool = True
    deleted: bool = False

    def __post_init__(self) -> None:
        if self.session_type is not None and self.session_type not in SESSION_TYPES:
            raise InvalidQuery("session_type", f"must be one of {SESSION_TYPES}, not {self.session_type!r}")
        if self.sort_by not in SORT_FIELDS:
            raise InvalidQuery("sort_by", f"must be one of {SORT_FIELDS}, not {self.sort_by!r}")
        if self.sort_order not in ("asc", "desc"):
            raise InvalidQuery("sort_order", f"must be 'asc' or 'desc', not {self.sort_order!r}")
        if not 1 <= self.page <= MAX_PAGE:
            raise InvalidQuery("page", f"must be between 1 and {MAX_PAGE}, not {self.page}")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidQuery("limit", f"must be between 1 and {MAX_LIMIT}, not {self.limit}")
        check_time_bounds(self.created_after, self.created_before)
        if self.metadata is not None and not isinstance(self.metadata, Mapping):
            raise InvalidQuery("metadata", f"must be a JSON object, not {type(self.metadata).__name__}")
        # Flattened once here, which also refuses a filter no backend can check.
        object.__setattr__(self, "_metadata_leaves", metadata_leaves(self.metadata or {}))
        for name in ("component_id", "user_id", "session_name"):
            value = getattr(self, name)
            if value is not None and "\x00" in value:
                # PostgreSQL refuses NUL in text, and SQLite's LIKE stops at one, so a name
                # filter of "\x00" would match every session there: refused on every backend.
                raise InvalidQuery(name, "must not contain a NUL character")

    @property
    def metadata_leaves(self) -> list[Leaf]:
        """The metadata filter flattened (empty when there is none)."""
        leaves: list[Leaf] = self.__dict__["_metadata_leaves"]
        return leaves

    @property
    def offset(self) -> int:
        """Rows skipped before this page when paging by number."""
        return (self.page - 1) * self.limit


@dataclass(frozen=True)
class Cursor:
    """The position after the last item of a page: its sort value and session id."""

    sort_by: str
    sort_order: str
    value: Any
    session_id: str

    def encode(self) -> str:
        """An opaque, URL-safe token."""
        raw = orjson.dumps([self.sort_by, self.sort_order, self.value, self.session_id])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, query: SessionQuery) -> Cursor:
        """Parse a token made by :meth:`encode` for the same sort as ``query``.

        Raises:
            InvalidQuery: the token is malformed or was made for another sort.
        """
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            sort_by, sort_order, value, session_id = orjson.loads(raw)
        except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
            raise InvalidQuery("cursor", "is not a cursor returned by this API") from exc
        if (sort_by, sort_order) != (query.sort_by, query.sort_order) or not isinstance(session_id, str):
            raise InvalidQuery("cursor", "was made for another sort order; start again without it")
        if isinstance(value, int) and not SQL_INT_MIN <= value <= SQL_INT_MAX:
            # orjson reads integers up to 2**64 - 1; no stored time is past a signed 64-bit one.
            raise InvalidQuery("cursor", "is not a cursor returned by this API")
        return cls(sort_by, sort_order, value, session_id)


@dataclass
class Page(Generic[T]):
    """One page of results and what the caller needs to fetch the next."""

    items: list[T]
    total_count: int
    page: int
    limit: int
    next_cursor: str | None = None

    @classmethod
    def of(cls, query: SessionQuery, items: list[T], total_count: int, next_cursor: str | None) -> Page[T]:
        """The page ``query`` asked for (its page number and limit), holding ``items``."""
        return cls(items, total_count, query.page, query.limit, next_cursor)

    @property
    def total_pages(self) -> int:
        """``ceil(total_count / limit)``."""
        return math.ceil(self.total_count / self.limit) if self.limit else 0
