"""``get_sessions`` against every backend: filters, sorts, pages and the keyset cursor."""

from __future__ import annotations

import pytest
from db_builders import agent_run, agent_session, team_session, workflow_session

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import InvalidQuery
from sessiondb.db.query import Cursor, SessionQuery


def _ids(store: SessionStore, **kwargs: object) -> list[str]:
    return [s.session_id for s in store.get_sessions(SessionQuery(**kwargs)).items]  # type: ignore[arg-type]


@pytest.fixture
def seeded(store: SessionStore) -> SessionStore:
    """Five sessions of three types, two users and distinct times and names."""
    named = agent_session("a1", user_id="alice", created_at=100, session_data={"session_name": "Paris trip"})
    derived = agent_session("a2", user_id="bob", created_at=200)
    derived.upsert_run(agent_run("a2-r0", "Budget for PARIS"))
    state_only = agent_session(
        "a3", user_id="alice", created_at=300, session_data={"session_state": {"paris": 1}}
    )
    team = team_session("t1", user_id="alice", created_at=400, session_data={"session_name": "Zebra 100%_x"})
    flow = workflow_session("w1", user_id=None, created_at=500)
    store.upsert_sessions([named, derived, state_only, team, flow])
    return store


def test_default_listing_is_newest_first_without_runs(seeded: SessionStore) -> None:
    page = seeded.get_sessions(SessionQuery())
    assert [s.session_id for s in page.items] == ["w1", "t1", "a3", "a2", "a1"]
    assert page.total_count == 5 and page.page == 1 and page.limit == 20
    assert all(s.runs is None and not s.runs_complete for s in page.items)
    assert all(s.version == 1 for s in page.items)


def test_items_keep_their_type_ids_and_blobs(seeded: SessionStore) -> None:
    items = {s.session_id: s for s in seeded.get_sessions(SessionQuery()).items}
    assert items["t1"].session_type == "team" and items["w1"].session_type == "workflow"
    assert items["a3"].session_data == {"session_state": {"paris": 1}}
    assert items["a1"].to_dict()["agent_id"] == "agent-1"


def test_filters_by_type_user_and_created_range(seeded: SessionStore) -> None:
    assert _ids(seeded, session_type="agent") == ["a3", "a2", "a1"]
    assert _ids(seeded, user_id="alice") == ["t1", "a3", "a1"]
    assert _ids(seeded, created_after=200, created_before=400) == ["t1", "a3", "a2"]
    assert _ids(seeded, session_type="agent", user_id="alice", created_before=100) == ["a1"]


def test_component_id_matches_the_column_of_the_type_or_any(seeded: SessionStore) -> None:
    assert _ids(seeded, component_id="team-1") == ["t1"]
    assert _ids(seeded, component_id="wf-1", session_type="workflow") == ["w1"]
    assert _ids(seeded, component_id="team-1", session_type="agent") == []
    assert _ids(seeded, component_id="agent-1") == ["a3", "a2", "a1"]


def test_the_name_filter_is_a_case_insensitive_substring_of_the_name_only(seeded: SessionStore) -> None:
    # "paris" is in a1's explicit name and a2's derived name; a3 has it only inside its state.
    assert _ids(seeded, session_name="paris") == ["a2", "a1"]
    assert _ids(seeded, session_name="PARIS TRIP") == ["a1"]
    assert _ids(seeded, session_name="new flow") == ["w1"]


def test_the_name_filter_takes_wildcards_literally(seeded: SessionStore) -> None:
    assert _ids(seeded, session_name="100%_x") == ["t1"]
    assert _ids(seeded, session_name="%") == ["t1"]
    assert _ids(seeded, session_name="r_p") == []


def test_sorts_ascending_and_by_name_with_a_session_id_tiebreak(store: SessionStore) -> None:
    for session_id, name in (("c", "beta"), ("a", "beta"), ("b", "Alpha"), ("d", "alpha")):
        store.upsert_session(agent_session(session_id, created_at=100, session_data={"session_name": name}))
    assert _ids(store, sort_by="session_name", sort_order="asc") == ["b", "d", "a", "c"]
    assert _ids(store, sort_by="session_name", sort_order="desc") == ["c", "a", "d", "b"]
    assert _ids(store, sort_by="created_at", sort_order="asc") == ["a", "b", "c", "d"]
    assert _ids(store) == ["d", "c", "b", "a"]


def test_updated_at_sort_follows_the_latest_write(store: SessionStore) -> None:
    for session_id in ("x", "y", "z"):
        store.upsert_session(agent_session(session_id, created_at=100))
    store.update_session("x", session_state={"later": True})
    assert _ids(store, sort_by="updated_at")[0] == "x"
    assert _ids(store, sort_by="updated_at", sort_order="asc")[-1] == "x"


def test_pages_count_everything_and_a_page_past_the_end_is_empty(seeded: SessionStore) -> None:
    second = seeded.get_sessions(SessionQuery(page=2, limit=2))
    assert [s.session_id for s in second.items] == ["a3", "a2"]
    assert (second.total_count, second.total_pages) == (5, 3)
    beyond = seeded.get_sessions(SessionQuery(page=9, limit=2))
    assert beyond.items == [] and beyond.total_count == 5 and beyond.next_cursor is None


def test_the_cursor_walks_every_sort_without_gaps_or_repeats(seeded: SessionStore) -> None:
    for sort_by in ("created_at", "updated_at", "session_name"):
        for order in ("asc", "desc"):
            expected = _ids(seeded, sort_by=sort_by, sort_order=order)
            walked: list[str] = []
            cursor = None
            while True:
                page = seeded.get_sessions(
                    SessionQuery(sort_by=sort_by, sort_order=order, limit=2, cursor=cursor)
                )  # type: ignore[arg-type]
                walked += [s.session_id for s in page.items]
                assert page.total_count == 5
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            assert walked == expected, (sort_by, order)


@pytest.mark.parametrize(
    "filters", [{}, {"user_id": "alice"}, {"session_type": "agent", "sort_order": "asc"}]
)
def test_without_the_count_the_pages_are_the_same_and_count_themselves(
    seeded: SessionStore, filters: dict[str, str]
) -> None:
    cursor, walked = None, 0
    while True:
        counted = seeded.get_sessions(SessionQuery(limit=2, cursor=cursor, **filters))  # type: ignore[arg-type]
        uncounted = seeded.get_sessions(
            SessionQuery(limit=2, cursor=cursor, count_total=False, **filters)  # type: ignore[arg-type]
        )
        assert [s.session_id for s in uncounted.items] == [s.session_id for s in counted.items]
        assert [s.version for s in uncounted.items] == [s.version for s in counted.items]
        assert uncounted.next_cursor == counted.next_cursor
        assert uncounted.total_count == len(uncounted.items)
        walked += len(uncounted.items)
        if counted.next_cursor is None:
            break
        cursor = counted.next_cursor
    assert walked == counted.total_count and walked > 0
    beyond = seeded.get_sessions(SessionQuery(page=9, limit=2, count_total=False))
    assert beyond.items == [] and beyond.total_count == 0 and beyond.next_cursor is None


def test_the_cursor_is_stable_under_inserts(seeded: SessionStore) -> None:
    first = seeded.get_sessions(SessionQuery(limit=2))
    assert [s.session_id for s in first.items] == ["w1", "t1"]
    seeded.upsert_session(agent_session("newest", created_at=900))
    seeded.upsert_session(agent_session("between", created_at=450))
    rest = seeded.get_sessions(SessionQuery(limit=10, cursor=first.next_cursor))
    assert [s.session_id for s in rest.items] == ["a3", "a2", "a1"]
    assert rest.next_cursor is None


def test_a_full_last_page_has_no_cursor(seeded: SessionStore) -> None:
    # Issue 15: a cursor that leads to an empty page sends clients one request for nothing.
    assert seeded.get_sessions(SessionQuery(limit=5)).next_cursor is None
    first = seeded.get_sessions(SessionQuery(limit=4))
    assert first.next_cursor is not None
    last = seeded.get_sessions(SessionQuery(limit=4, cursor=first.next_cursor))
    assert (len(last.items), last.next_cursor) == (1, None)
    by_number = seeded.get_sessions(SessionQuery(limit=1, page=5))
    assert (len(by_number.items), by_number.next_cursor) == (1, None)


def test_a_bad_or_mismatched_cursor_is_an_invalid_query(seeded: SessionStore) -> None:
    with pytest.raises(InvalidQuery):
        seeded.get_sessions(SessionQuery(cursor="not-a-cursor!"))
    other_sort = seeded.get_sessions(SessionQuery(limit=1, sort_by="session_name")).next_cursor
    with pytest.raises(InvalidQuery):
        seeded.get_sessions(SessionQuery(limit=1, cursor=other_sort))
    wrong_type = Cursor("created_at", "desc", "not-a-number", "x").encode()
    with pytest.raises(InvalidQuery):
        seeded.get_sessions(SessionQuery(cursor=wrong_type))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("page", 2**31),
        ("limit", 2**31),
        ("created_after", 2**63),
        ("created_before", -(2**63) - 1),
    ],
)
def test_values_no_database_can_bind_are_an_invalid_query(field: str, value: int) -> None:
    with pytest.raises(InvalidQuery) as raised:
        SessionQuery(**{field: value})  # type: ignore[arg-type]
    assert raised.value.field == field


def test_the_largest_page_and_limit_fit_the_offset(seeded: SessionStore) -> None:
    page = seeded.get_sessions(SessionQuery(page=2**31 - 1, limit=2**31 - 1))
    assert page.items == [] and page.total_count == 5
