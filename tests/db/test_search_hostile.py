"""Hostile search queries, on every backend: a clear ``InvalidQuery`` or a literal search, never
an engine error. The user's text never reaches FTS5 or ``to_tsquery`` as typed."""

from __future__ import annotations

import pytest
from db_builders import agent_run, agent_session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import InvalidQuery

HOSTILE = [
    '"unbalanced',
    'two "quotes" and "one',
    '""',
    "NEAR(alpha beta, 2)",
    "alpha AND beta OR NOT gamma",
    "body:alpha",
    "{body}: alpha",
    "^alpha",
    "alpha*beta",
    "* * *",
    "alpha:*",
    "alpha & !beta | (gamma <-> delta)",
    "'alpha' 'beta'",
    "\\ \\\\ \\'",
    "alpha -beta +gamma",
    "😀 alpha 🚀",
    "\u202ealpha\u202c",
    "a\u0301lpha",
    "%_alpha%",
    "alpha; DROP TABLE sessions; --",
    "word " * 32,
]


def _seed(store: SessionStore) -> None:
    session = agent_session("s1")
    session.upsert_run(agent_run("s1-r0", "alpha beta gamma delta"))
    store.upsert_session(session)


@pytest.mark.parametrize("q", HOSTILE)
def test_operator_syntax_is_searched_as_words_or_refused(store: SessionStore, q: str) -> None:
    _seed(store)
    try:
        page = store.search(q)
    except InvalidQuery as error:
        assert error.field == "q"
        return
    assert all(hit.run_id == "s1-r0" for hit in page.items)


def test_operator_words_are_plain_words(store: SessionStore) -> None:
    _seed(store)
    # "AND" and "NOT" are words every hit must hold, not operators.
    assert store.search("alpha AND beta").items == []
    assert [hit.run_id for hit in store.search("alpha beta").items] == ["s1-r0"]
    assert [hit.run_id for hit in store.search('"alpha beta').items] == ["s1-r0"]  # the quote is dropped
    assert [hit.run_id for hit in store.search("body:alpha").items] == []  # "body" is a word too


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(q=st.text(max_size=60) | st.text(alphabet="\"*:^()-+ NEARANDOTabc\\'&|!<>", max_size=30))
def test_no_text_makes_an_engine_error(store: SessionStore, q: str) -> None:
    if not store.search("alpha").items:
        _seed(store)
    try:
        store.search(q, limit=5)
    except InvalidQuery as error:
        assert error.field == "q"
