"""``SessionQuery(metadata=...)`` against every backend: JSON containment of the metadata."""

from __future__ import annotations

from typing import Any

import pytest
from db_builders import agent_session

from sessiondb.db._sql import SqlStore
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import InvalidQuery
from sessiondb.db.query import SessionQuery

METADATA: dict[str, dict[str, Any] | None] = {
    "web": {
        "source": "web",
        "tier": 2,
        "beta": True,
        "tags": ["a", "b"],
        "geo": {"country": "fr", "city": "Lyon"},
    },
    "app": {"source": "app", "tier": 2.0, "beta": False, "tags": ["b", "a"], "geo": {"country": "fr"}},
    "one": {"source": "web", "tier": 1, "beta": 1, "tags": ["a"], "geo": None, "quote": "it's 100%"},
    "bare": None,
    "empty": {},
}


@pytest.fixture
def seeded(store: SessionStore) -> SessionStore:
    for number, (session_id, metadata) in enumerate(METADATA.items()):
        store.upsert_session(agent_session(session_id, created_at=100 + number, metadata=metadata))
    return store


def _ids(store: SessionStore, metadata: dict[str, Any], **kwargs: Any) -> set[str]:
    page = store.get_sessions(SessionQuery(metadata=metadata, **kwargs))
    assert page.total_count == len(page.items)
    return {s.session_id for s in page.items}


def test_scalars_match_by_json_type_and_value(seeded: SessionStore) -> None:
    assert _ids(seeded, {"source": "web"}) == {"web", "one"}
    assert _ids(seeded, {"source": "web", "tier": 1}) == {"one"}
    # Numbers compare by value: 2 equals 2.0.
    assert _ids(seeded, {"tier": 2}) == {"web", "app"}
    # true is not 1, and false is not 0 or missing.
    assert _ids(seeded, {"beta": True}) == {"web"}
    assert _ids(seeded, {"beta": False}) == {"app"}
    assert _ids(seeded, {"beta": 1}) == {"one"}
    assert _ids(seeded, {"geo": None}) == {"one"}
    assert _ids(seeded, {"source": "WEB"}) == set()
    assert _ids(seeded, {"quote": "it's 100%"}) == {"one"}
    assert _ids(seeded, {"missing": "x"}) == set()


def test_objects_match_by_containment_and_arrays_whole(seeded: SessionStore) -> None:
    assert _ids(seeded, {"geo": {"country": "fr"}}) == {"web", "app"}
    assert _ids(seeded, {"geo": {"city": "Lyon"}}) == {"web"}
    assert _ids(seeded, {"geo": {}}) == {"web", "app"}
    # An array matches only the same items in the same order (not a subset, not reordered).
    assert _ids(seeded, {"tags": ["a", "b"]}) == {"web"}
    assert _ids(seeded, {"tags": ["a"]}) == {"one"}
    assert _ids(seeded, {"tags": "a"}) == set()


def test_an_empty_filter_filters_nothing_and_combines_with_other_filters(seeded: SessionStore) -> None:
    assert _ids(seeded, {}) == set(METADATA)
    assert _ids(seeded, {"source": "web"}, created_after=101) == {"one"}
    page = seeded.get_sessions(SessionQuery(metadata={"tier": 2}, limit=1))
    assert page.total_count == 2 and len(page.items) == 1
    following = seeded.get_sessions(SessionQuery(metadata={"tier": 2}, limit=1, cursor=page.next_cursor))
    assert {page.items[0].session_id, following.items[0].session_id} == {"web", "app"}


@pytest.mark.parametrize(
    "metadata",
    [{'a"b': 1}, {"a\x00": 1}, {1: "x"}, {"a": float("nan")}, {"a": object()}, ["a"]],
    ids=["quote", "nul", "int-key", "nan", "object", "list"],
)
def test_a_filter_no_backend_can_check_is_refused_naming_it(metadata: Any) -> None:
    with pytest.raises(InvalidQuery, match="metadata"):
        SessionQuery(metadata=metadata)


def test_postgres_answers_the_filter_from_the_gin_index(sql_store: SqlStore) -> None:
    if sql_store._engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no index for JSON containment")
    # Enough rows that scanning a listing index (each ends with deleted_at, migration 0007, so
    # it serves the live-rows condition) costs more than the GIN lookup.
    sql_store.upsert_sessions([agent_session(f"s{number}", metadata={"n": number}) for number in range(1000)])
    statement, params = sql_store._listing.page_query(SessionQuery(metadata={"n": 7}))
    names = sql_store._tables.names
    with sql_store._engine.connect() as conn:
        # With statistics the planner knows that every row is live: without them it may guess
        # that the listing indexes' trailing ``deleted_at IS NULL`` (migration 0007) is selective.
        conn.exec_driver_sql(f'ANALYZE "{names.schema}"."{names.sessions}"')
        conn.exec_driver_sql("SET enable_seqscan = off")
        compiled = statement.compile(conn)
        plan = conn.exec_driver_sql(f"EXPLAIN {compiled.string}", compiled.construct_params(params)).all()
    assert f"idx_{sql_store._tables.names.sessions}_metadata" in "\n".join(row[0] for row in plan)
