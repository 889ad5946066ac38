"""How to search transcripts: the query (parsed into safe terms), a hit, the cursor, the snippet marks.

A user's query is never handed to an engine as it was typed. :func:`parse_terms` reads it with a
small, total grammar and each backend builds its engine's query from the terms, quoting every
word, so no input is a syntax error or an operator:

- words separated by spaces must all match (case- and, where the engine folds them,
  accent-insensitively);
- ``"exact words"`` (balanced double quotes) is a phrase: the words next to each other;
- a ``*`` right after a word, or after a closing quote, makes its last word a prefix (``deplo*``);
- a word is a run of letters and digits; everything else (punctuation, ``:``, ``(``, a lone
  ``*``, an unbalanced quote, ``AND``/``NEAR`` spelled in capitals, which are just words) only
  separates words. A chunk like ``don't`` or ``foo_bar`` is the phrase of its words.

Snippets are HTML-safe: the text is escaped (``&``, ``<``, ``>``, quotes) and each matched
word is wrapped in :data:`MARK_START` ... :data:`MARK_END` (``<mark>``/``</mark>``), so a web
page may insert a snippet as HTML.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from sessiondb.db.errors import InvalidQuery
from sessiondb.db.query import SESSION_TYPES
from sessiondb.session.base import SessionType

MAX_QUERY_CHARS = 1_000
"""The longest query accepted; a longer one is refused (a search is a few words)."""
MAX_TERMS = 32
"""The most words a query may hold (each is one more index lookup)."""
MAX_SEARCH_LIMIT = 100
"""The most hits one page may hold."""

MARK_START = "<mark>"
MARK_END = "</mark>"
ENGINE_MARK_START = "\x02"
ENGINE_MARK_END = "\x03"
"""The characters the engines' snippet functions put around a match; indexed text never holds
them (:func:`~sessiondb.run.search_text.searchable_text` turns control characters into spaces),
so :func:`render_snippet` can escape the text and then turn them into :data:`MARK_START` and
:data:`MARK_END`."""
ELLIPSIS = "…"

# Letters and digits: the characters SQLite's unicode61 and PostgreSQL's parser make words of.
# The underscore, a word character to Python, separates words for both engines.
WORD = re.compile(r"[^\W_]+")
_QUOTED = re.compile(r'"([^"]*)"(\*?)')


@dataclass(frozen=True)
class Term:
    """One thing every hit must contain: a word, or several words in a row (a phrase).

    Attributes:
        words: the words, as typed (engines fold case and accents themselves).
        prefix: the last word matches any word it begins.
    """

    words: tuple[str, ...]
    prefix: bool = False


def _chunk_term(chunk: str, prefix: bool) -> Term | None:
    words = tuple(WORD.findall(chunk))
    return Term(words, prefix) if words else None


def parse_terms(q: str) -> tuple[Term, ...]:
    """The terms of a user's query (see the module docstring).

    Raises:
        InvalidQuery: ``q`` is too long, holds NUL, has no word, or too many words.
    """
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidQuery("q", f"must be at most {MAX_QUERY_CHARS} characters, not {len(q)}")
    if "\x00" in q:
        raise InvalidQuery("q", "must not contain a NUL character")
    terms: list[Term | None] = []
    position = 0
    for quoted in _QUOTED.finditer(q):
        terms.extend(_bare_terms(q[position : quoted.start()]))
        inner, star = quoted.group(1), quoted.group(2)
        terms.append(_chunk_term(inner, bool(star) or inner.rstrip().endswith("*")))
        position = quoted.end()
    # An unbalanced quote is only a separator.
    terms.extend(_bare_terms(q[position:].replace('"', " ")))
    found = tuple(term for term in terms if term is not None)
    if not found:
        raise InvalidQuery("q", "has no word to search for (letters or digits)")
    if sum(len(term.words) for term in found) > MAX_TERMS:
        raise InvalidQuery("q", f"must hold at most {MAX_TERMS} words")
    return found


def _bare_terms(text: str) -> list[Term | None]:
    return [_chunk_term(chunk, chunk.endswith("*")) for chunk in text.split()]


@dataclass(frozen=True, kw_only=True)
class SearchQuery:
    """A full-text search: the query text, the session filters of a listing, and the window.

    Attributes:
        q: the user's query (see the module docstring).
        user_id: only sessions of this user.
        session_type: only sessions of this type.
        component_id: the agent, team or workflow id, as in :class:`~sessiondb.db.query.SessionQuery`.
        limit: hits per page, 1 to :data:`MAX_SEARCH_LIMIT`.
        cursor: a ``next_cursor`` from the previous page of the same query.
        terms: the parsed query (computed).
        after: the decoded cursor (computed), ``None`` on the first page.

    Raises:
        InvalidQuery: a field is out of range or malformed, naming it.
    """

    q: str
    user_id: str | None = None
    session_type: SessionType | None = None
    component_id: str | None = None
    limit: int = 20
    cursor: str | None = None
    terms: tuple[Term, ...] = field(init=False)
    after: SearchCursor | None = field(init=False)

    def __post_init__(self) -> None:
        if self.session_type is not None and self.session_type not in SESSION_TYPES:
            raise InvalidQuery("session_type", f"must be one of {SESSION_TYPES}, not {self.session_type!r}")
        if not 1 <= self.limit <= MAX_SEARCH_LIMIT:
            raise InvalidQuery("limit", f"must be between 1 and {MAX_SEARCH_LIMIT}, not {self.limit}")
        for name in ("user_id", "component_id"):
            value = getattr(self, name)
            if value is not None and "\x00" in value:
                raise InvalidQuery(name, "must not contain a NUL character")
        object.__setattr__(self, "terms", parse_terms(self.q))
        after = SearchCursor.decode(self.cursor, self.terms) if self.cursor is not None else None
        object.__setattr__(self, "after", after)


def _fingerprint(terms: tuple[Term, ...]) -> str:
    """A short digest of the parsed query, so a cursor is refused by another query."""
    raw = orjson.dumps([[list(term.words), term.prefix] for term in terms])
    return hashlib.blake2b(raw, digest_size=6).hexdigest()


@dataclass(frozen=True)
class SearchCursor:
    """The position after the last hit of a page: its score, time and run id (the sort key)."""

    score: float
    created_at: int
    run_id: str

    def encode(self, terms: tuple[Term, ...]) -> str:
        """An opaque, URL-safe token, valid only for a query with these ``terms``."""
        raw = orjson.dumps([_fingerprint(terms), self.score, self.created_at, self.run_id])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, terms: tuple[Term, ...]) -> SearchCursor:
        """Parse a token :meth:`encode` made for the same query.

        Raises:
            InvalidQuery: the token is malformed or was made for another query.
        """
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            fingerprint, score, created_at, run_id = orjson.loads(raw)
        except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
            raise InvalidQuery("cursor", "is not a cursor returned by this search") from exc
        valid = (
            isinstance(score, int | float)
            and not isinstance(score, bool)
            and math.isfinite(score)
            and isinstance(created_at, int)
            and not isinstance(created_at, bool)
            and -(2**63) <= created_at < 2**63
            and isinstance(run_id, str)
            and "\x00" not in run_id
        )
        if not valid:
            raise InvalidQuery("cursor", "is not a cursor returned by this search")
        if fingerprint != _fingerprint(terms):
            raise InvalidQuery("cursor", "was made for another query; start again without it")
        return cls(float(score), created_at, run_id)


@dataclass(frozen=True, kw_only=True)
class SearchHit:
    """One run that matches a search.

    Attributes:
        session_id / session_name / session_type: the session the run belongs to.
        run_id: the matching run.
        snippet: a short extract of the run's text, HTML-escaped, the matched words wrapped in
            ``<mark>``...``</mark>``.
        score: relevance, higher is better; comparable only within one search on one backend.
        created_at: when the run was created (unix seconds).
    """

    session_id: str
    session_name: str
    session_type: SessionType
    run_id: str
    snippet: str
    score: float
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        """The hit as plain JSON types."""
        return {
            "session_id": self.session_id,
            "session_name": self.session_name,
            "session_type": self.session_type,
            "run_id": self.run_id,
            "snippet": self.snippet,
            "score": self.score,
            "created_at": self.created_at,
        }


def render_snippet(raw: str) -> str:
    """An engine's snippet (matches between :data:`ENGINE_MARK_START`/``END``) as safe HTML."""
    escaped = html.escape(raw, quote=True)
    return escaped.replace(ENGINE_MARK_START, MARK_START).replace(ENGINE_MARK_END, MARK_END)


def plain_snippet(snippet: str, *, mark: str = "") -> str:
    """A hit's snippet as plain text: HTML unescaped, each ``<mark>``/``</mark>`` replaced by ``mark``."""
    return html.unescape(snippet.replace(MARK_START, mark).replace(MARK_END, mark))


def next_cursor(hits: list[SearchHit], query: SearchQuery, *, more: bool) -> str | None:
    """The cursor after the last of ``hits`` when there are ``more``, else ``None``."""
    if not more or not hits:
        return None
    last = hits[-1]
    return SearchCursor(last.score, last.created_at, last.run_id).encode(query.terms)


__all__ = [
    "MARK_END",
    "MARK_START",
    "MAX_QUERY_CHARS",
    "MAX_SEARCH_LIMIT",
    "SearchCursor",
    "SearchHit",
    "SearchQuery",
    "Term",
    "parse_terms",
    "plain_snippet",
    "render_snippet",
]
