"""Full-text search for ``InMemoryDb``: a plain scan of every visible run, with the engines' rules.

Words are folded as the SQL engines fold them (case, and accents as SQLite's
``remove_diacritics 2`` does), a phrase is its words in a row, a prefix term matches any word
it begins. The score is the number of matched occurrences, which orders like the engines' for
the simple cases the conformance suite checks (more matches rank higher).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sessiondb.db._mem_listing import matches
from sessiondb.db._mem_rows import StoredSession, decode_runs
from sessiondb.db.query import SessionQuery
from sessiondb.db.search import (
    ELLIPSIS,
    ENGINE_MARK_END,
    ENGINE_MARK_START,
    WORD,
    SearchHit,
    SearchQuery,
    Term,
    next_cursor,
    render_snippet,
)
from sessiondb.run.search_text import searchable_text

SNIPPET_WORDS = 16
"""Words around the first match a snippet shows (the SQL backends ask their engines for as many)."""


def fold(word: str) -> str:
    """``word`` without case or diacritics."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    folded: str


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.start(), m.end(), fold(m.group())) for m in WORD.finditer(text)]


def _spans(tokens: list[_Token], term: Term) -> list[tuple[int, int]]:
    """The token ranges ``[i, j)`` where ``term`` matches."""
    words = [fold(word) for word in term.words]
    width = len(words)
    found = []
    for i in range(len(tokens) - width + 1):
        window = tokens[i : i + width]
        head_ok = all(token.folded == word for token, word in zip(window[:-1], words[:-1], strict=True))
        last, word = window[-1].folded, words[-1]
        if head_ok and (last.startswith(word) if term.prefix else last == word):
            found.append((i, i + width))
    return found


def _snippet(text: str, tokens: list[_Token], spans: list[tuple[int, int]]) -> str:
    first = min(start for start, _ in spans)
    lo = max(0, first - SNIPPET_WORDS // 4)
    hi = min(len(tokens), lo + SNIPPET_WORDS)
    marked = {i for start, end in spans for i in range(start, end) if lo <= i < hi}
    parts = [ELLIPSIS] if lo > 0 else []
    position = tokens[lo].start
    for i in range(lo, hi):
        token = tokens[i]
        parts.append(text[position : token.start])
        word = text[token.start : token.end]
        parts.append(f"{ENGINE_MARK_START}{word}{ENGINE_MARK_END}" if i in marked else word)
        position = token.end
    if hi < len(tokens):
        parts.append(ELLIPSIS)
    return render_snippet("".join(parts))


def search_rows(rows: Iterable[StoredSession], query: SearchQuery) -> tuple[list[SearchHit], str | None]:
    """The page of hits ``query`` asks for among ``rows``, and the cursor to the next page."""
    listing = SessionQuery(
        session_type=query.session_type, component_id=query.component_id, user_id=query.user_id
    )
    hits: list[SearchHit] = []
    for row in rows:
        # A session in the trash is gone for every read, search included (until restored).
        if row.deleted_at is not None or not matches(row, listing):
            continue
        stored = list(row.runs.values())
        for run in decode_runs(row.session_type, stored):
            hit = _match(row, run.run_id, run.created_at, searchable_text(run), query)
            if hit is not None:
                hits.append(hit)
    hits.sort(key=lambda hit: (hit.score, hit.created_at, hit.run_id), reverse=True)
    if query.after is not None:
        bound = (query.after.score, query.after.created_at, query.after.run_id)
        hits = [hit for hit in hits if (hit.score, hit.created_at, hit.run_id) < bound]
    page = hits[: query.limit]
    return page, next_cursor(page, query, more=len(hits) > query.limit)


def _match(
    row: StoredSession, run_id: str, created_at: int, text: str, query: SearchQuery
) -> SearchHit | None:
    tokens = _tokens(text)
    spans: list[tuple[int, int]] = []
    for term in query.terms:
        found = _spans(tokens, term)
        if not found:
            return None
        spans.extend(found)
    return SearchHit(
        session_id=row.session_id,
        session_name=row.name,
        session_type=row.session_type,
        run_id=run_id,
        snippet=_snippet(text, tokens, spans),
        score=float(len(spans)),
        created_at=created_at,
    )
