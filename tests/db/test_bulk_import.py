"""Bulk imports (``upsert_sessions``) store exactly what saving the sessions one by one stores.

The SQL stores write a batch with one session upsert and one run upsert (``db/_sql/bulk.py``);
these tests hold that path to the one-by-one results, errors and atomicity on every backend.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from bulk_probes import run_concurrently, run_indexes, statements_sent
from db_builders import agent_run, agent_session, team_run, team_session, workflow_run, workflow_session
from sqlalchemy import select

from sessiondb.db._sql import SqlStore
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import InvalidQuery, SessionNotFound, SessionOwnedByAnotherUser
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.query import SessionQuery
from sessiondb.run import RunOutput
from sessiondb.session import AgentSession, Session, WorkflowSession
from store_backends import BACKEND_PARAMS, BACKENDS

# -- helpers ---------------------------------------------------------------------------------

T0 = 1_700_000_000
"""Creation time of the compared sessions: two stores written a second apart must agree."""


@pytest.fixture(params=BACKEND_PARAMS)
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SessionStore, SessionStore]]:
    """Two fresh, separate stores of one backend: one for the batch, one for one-by-one saves."""
    with ExitStack() as stack:
        (tmp_path / "bulk").mkdir()
        (tmp_path / "single").mkdir()
        bulk = stack.enter_context(BACKENDS[request.param](tmp_path / "bulk"))
        single = stack.enter_context(BACKENDS[request.param](tmp_path / "single"))
        yield bulk, single


def _mixed_batch() -> list[Session]:
    """Sessions of every type and naming case, unsorted, as a fresh import would bring them."""
    team = team_session("t1", user_id=None, created_at=T0)
    team.upsert_run(agent_run("t1-member", "member speaks first", agent_id="m1"))
    team.upsert_run(team_run("t1-lead", "the team question"))
    flow = workflow_session("w1", created_at=T0)
    flow.upsert_run(workflow_run("w1-r0", "plan the trip"))
    return [
        agent_session(
            "b", runs=3, metadata={"k": [1, 2]}, session_data={"session_state": {"n": 1}}, created_at=T0
        ),
        team,
        agent_session("a", runs=2, session_data={"session_name": "Explicit"}, created_at=T0),
        flow,
        workflow_session("w2", created_at=T0),  # no run: the "New Flow Session" fallback
        WorkflowSession(
            session_id="w3", user_id="u1", workflow_id="wf-1", workflow_data={"name": "Data"}, created_at=T0
        ),
        agent_session("empty", created_at=T0),
    ]


def _state(store: SessionStore) -> dict[str, Any]:
    """Everything a reader can see of a store's sessions, without write times."""
    state: dict[str, Any] = {}
    for item in store.get_sessions(SessionQuery(limit=100)).items:
        session = store.get_session(item.session_id)
        data = session.to_dict()
        data.pop("updated_at")
        state[item.session_id] = {
            "data": data,
            "version": session.version,
            "name": item.get_session_name(),
            "runs": [run.to_dict() for run in session.runs or []],
        }
    return state


def _rows(store: SessionStore) -> dict[str, list[dict[str, Any]]]:
    """The raw rows of a SQL store (both tables), without write times."""
    if not isinstance(store, SqlStore):
        return {}
    tables = store._tables
    rows: dict[str, list[dict[str, Any]]] = {}
    with store._engine.connect() as conn:
        for table, key in ((tables.sessions, "session_id"), (tables.runs, "run_id")):
            found = conn.execute(select(table).order_by(table.c[key])).mappings()
            rows[table.name] = [{k: v for k, v in row.items() if k != "updated_at"} for row in found]
    return rows


def _bookkeeping(session: Session) -> tuple[Any, ...]:
    state = session._store_state
    return (session.version, session.created_at, dict(state.stored_runs), state.stored_name)


# -- the batch equals the sessions saved one by one --------------------------------------------


def test_a_new_mixed_batch_stores_what_one_by_one_saves_store(
    two_stores: tuple[SessionStore, SessionStore],
) -> None:
    bulk, single = two_stores
    batch = _mixed_batch()
    one_by_one = copy.deepcopy(batch)  # message ids and times are random: the very same runs
    assert bulk.upsert_sessions(batch) == batch
    for session in one_by_one:
        single.upsert_session(session)
    assert _state(bulk) == _state(single)
    assert _rows(bulk) == _rows(single)
    names = {item.session_id: item.get_session_name() for item in bulk.get_sessions(SessionQuery()).items}
    assert names == {
        "a": "Explicit",
        "b": "message 0",
        "empty": "",
        "t1": "the team question",
        "w1": "plan the trip",
        "w2": "New Flow Session",
        "w3": "New Data Session",
    }
    for ours, theirs in zip(batch, one_by_one, strict=True):
        assert _bookkeeping(ours)[0] == 1
        assert _bookkeeping(ours)[2:] == _bookkeeping(theirs)[2:]


def test_a_batch_over_stored_sessions_appends_replaces_and_renames_as_one_by_one(
    two_stores: tuple[SessionStore, SessionStore],
) -> None:
    bulk, single = two_stores
    initial = [
        agent_session("a", runs=2, created_at=T0),
        agent_session("b", runs=2, created_at=T0),
        workflow_session("w", created_at=T0),
    ]
    new_runs = [
        agent_run("a-r0", "a new first question"),  # replaces the naming run
        agent_run("a-r9", "appended"),
        agent_run("b-r1", "second one rewritten"),
    ]

    def changes(store: SessionStore) -> list[Session]:
        store.upsert_sessions(copy.deepcopy(initial))
        a, b, w = (store.get_session(session_id) for session_id in ("a", "b", "w"))
        assert isinstance(a, AgentSession) and isinstance(b, AgentSession)
        replaced, appended, rewritten = copy.deepcopy(new_runs)
        a.upsert_run(replaced)
        a.upsert_run(appended)
        b.upsert_run(rewritten)
        b.session_data = {"session_name": "Now named"}
        w.workflow_name = "Renamed flow"  # the stored fallback name is stale
        return [a, b, w]

    batch = changes(bulk)
    bulk.upsert_sessions(batch)
    for session in changes(single):
        single.upsert_session(session)
    assert _state(bulk) == _state(single)
    assert _rows(bulk) == _rows(single)
    loaded = bulk.get_session("a")
    assert [run.run_id for run in loaded.runs or []] == ["a-r0", "a-r1", "a-r9"]
    assert loaded.get_session_name() == "a new first question" and loaded.version == 2
    assert bulk.get_session("w").get_session_name() == "New Renamed flow Session"
    # Saving the saved objects again writes nothing new but a version.
    bulk.upsert_sessions(batch)
    assert [session.version for session in batch] == [3, 3, 3]
    assert _state(bulk)["a"]["runs"] == _state(single)["a"]["runs"]


def test_a_batch_equals_one_by_one_in_any_input_order(store: SessionStore) -> None:
    returned = store.upsert_sessions([agent_session("z", runs=1), agent_session("m", runs=1)])
    assert [session.session_id for session in returned] == ["z", "m"]
    assert [run.run_id for run in store.get_session("m").runs or []] == ["m-r0"]
    assert [run.run_id for run in store.get_session("z").runs or []] == ["z-r0"]


# -- refusals and atomicity ------------------------------------------------------------------


@pytest.mark.parametrize("intruder_id", ["a-first", "m-middle", "z-last"])
def test_a_batch_with_a_refused_session_writes_nothing(store: SessionStore, intruder_id: str) -> None:
    store.upsert_session(agent_session(intruder_id, user_id="alice", runs=1, metadata={"v": 1}))
    intruder = agent_session(intruder_id, user_id="bob", runs=2, metadata={"v": 2})
    intruder.runs[1].run_id = "bobs-run"  # type: ignore[index]
    others = [agent_session(session_id, runs=2) for session_id in ("b-new", "n-new", "y-new")]
    batch = [*others, intruder]
    with pytest.raises(SessionOwnedByAnotherUser) as refused:
        store.upsert_sessions(batch)
    assert refused.value.args and intruder_id in str(refused.value)
    for session_id in ("b-new", "n-new", "y-new"):
        with pytest.raises(SessionNotFound):
            store.get_session(session_id)
    stored = store.get_session(intruder_id)
    assert stored.user_id == "alice" and stored.metadata == {"v": 1} and stored.version == 1
    assert [run.run_id for run in stored.runs or []] == [f"{intruder_id}-r0"]
    assert all(session.version is None for session in batch)
    # Nothing was reserved either: the same batch without the intruder stores runs from index 0.
    store.upsert_sessions(others)
    assert [run.run_id for run in store.get_session("n-new").runs or []] == ["n-new-r0", "n-new-r1"]
    assert all(session.version == 1 for session in others)


def test_an_anonymous_session_in_a_batch_cannot_take_an_owned_one(store: SessionStore) -> None:
    store.upsert_session(agent_session("owned", user_id="alice"))
    with pytest.raises(SessionOwnedByAnotherUser):
        store.upsert_sessions([agent_session("new"), agent_session("owned", user_id=None)])
    with pytest.raises(SessionNotFound):
        store.get_session("new")


def test_a_batch_may_claim_sessions_without_owner(store: SessionStore) -> None:
    store.upsert_sessions([agent_session("a", user_id=None), agent_session("b", user_id=None)])
    store.upsert_sessions([agent_session("a", user_id="carol", runs=1), agent_session("b", user_id=None)])
    assert store.get_session("a").user_id == "carol" and store.get_session("a").version == 2
    assert store.get_session("b").user_id is None


def test_a_batch_with_a_run_of_another_session_is_invalid_and_writes_nothing(store: SessionStore) -> None:
    store.upsert_session(agent_session("a", runs=2))
    thief = agent_session("b", runs=1)
    thief.upsert_run(agent_run("a-r1", "taken"))
    bystander = agent_session("c", runs=1)
    with pytest.raises(InvalidQuery, match="a-r1"):
        store.upsert_sessions([thief, bystander])
    for session_id in ("b", "c"):
        with pytest.raises(SessionNotFound):
            store.get_session(session_id)
    assert [run.content for run in store.get_session("a").runs or []] == ["MESSAGE 0", "MESSAGE 1"]


@pytest.mark.parametrize(
    ("thief_id", "error"), [("a-thief", InvalidQuery), ("z-thief", SessionOwnedByAnotherUser)]
)
def test_the_first_failing_session_in_id_order_names_the_error(
    store: SessionStore, thief_id: str, error: type[Exception]
) -> None:
    store.upsert_session(agent_session("owned", user_id="alice", runs=1))
    thief = agent_session(thief_id, runs=1)
    thief.upsert_run(agent_run("owned-r0", "taken"))
    # Given in id order, as the SQL stores sort the batch (InMemoryDb keeps the input order).
    batch = sorted([thief, agent_session("owned", user_id="bob")], key=lambda s: s.session_id)
    with pytest.raises(error):
        store.upsert_sessions(batch)
    with pytest.raises(SessionNotFound):
        store.get_session(thief_id)


def test_a_value_the_database_refuses_fails_the_whole_batch(store: SessionStore) -> None:
    batch = [agent_session("a", runs=1), agent_session("b", runs=1, session_data={"note": "nul \x00 inside"})]
    if not isinstance(store, PostgresDb):
        store.upsert_sessions(batch)
        assert store.get_session("b").session_data == {"note": "nul \x00 inside"}
        return
    # PostgreSQL's JSONB cannot hold U+0000.
    with pytest.raises(InvalidQuery, match="refused"):
        store.upsert_sessions(batch)
    with pytest.raises(SessionNotFound):
        store.get_session("a")


@pytest.mark.parametrize("stored", [False, True], ids=["copied", "pipelined"])
def test_a_run_the_database_refuses_fails_the_whole_batch(store: SessionStore, stored: bool) -> None:
    # On PostgreSQL the runs of new sessions go through COPY and the others through psycopg's
    # pipelined executemany: an error inside either must still be the domain error and roll
    # the whole batch back. PostgreSQL's text columns cannot hold U+0000; SQLite's can.
    if stored:
        store.upsert_session(agent_session("b", runs=2))
        refused = store.get_session("b")
    else:
        refused = agent_session("b", runs=2)
    refused.upsert_run(agent_run("b-nul", "refused", agent_id="agent \x00 nul"))
    batch = [agent_session("a", runs=3), refused, agent_session("c", runs=1)]
    if not isinstance(store, PostgresDb):
        store.upsert_sessions(batch)
        assert store.get_run("b-nul").agent_id == "agent \x00 nul"  # type: ignore[union-attr]
        return
    with pytest.raises(InvalidQuery, match="refused"):
        store.upsert_sessions(batch)
    for session_id in ("a", "c") if stored else ("a", "b", "c"):
        with pytest.raises(SessionNotFound):
            store.get_session(session_id)
    if stored:
        assert [run.run_id for run in store.get_session("b").runs or []] == ["b-r0", "b-r1"]
    # The store's connections are still usable after the aborted COPY or pipeline.
    store.upsert_sessions([agent_session("d", runs=2)])
    assert len(store.get_session("d").runs or []) == 2


def test_json_nested_as_deep_as_one_session_allows_is_allowed_in_a_batch(
    two_stores: tuple[SessionStore, SessionStore],
) -> None:
    bulk, single = two_stores
    deep: Any = "bottom"
    for _ in range(200):
        deep = {"d": deep}
    single.upsert_session(agent_session("a", metadata=deep, created_at=T0))
    bulk.upsert_sessions([agent_session("a", metadata=deep, created_at=T0), agent_session("b", runs=1)])
    assert bulk.get_session("a").metadata == deep == single.get_session("a").metadata


# -- duplicates within a batch ---------------------------------------------------------------


def test_one_session_twice_in_a_batch_is_saved_twice_in_order(store: SessionStore) -> None:
    first = agent_session("a", runs=1)
    second = agent_session("a", runs=0, metadata={"second": True})
    second.upsert_run(agent_run("a-extra", "later"))
    store.upsert_sessions([first, second])
    stored = store.get_session("a")
    assert stored.version == 2 and stored.metadata == {"second": True}
    assert [run.run_id for run in stored.runs or []] == ["a-r0", "a-extra"]


def test_one_run_id_twice_in_a_session_of_a_batch_is_stored_once(store: SessionStore) -> None:
    session = agent_session("a", runs=2)
    assert session.runs is not None
    session.runs.append(agent_run("a-r0", "again"))
    store.upsert_sessions([session, agent_session("b", runs=1)])
    stored = store.get_session("a").runs or []
    assert [(run.run_id, run.content) for run in stored] == [("a-r0", "AGAIN"), ("a-r1", "MESSAGE 1")]


def test_one_run_id_in_two_sessions_of_a_batch_is_invalid_and_writes_nothing(store: SessionStore) -> None:
    a, b = agent_session("a", runs=1), agent_session("b", runs=1)
    b.upsert_run(agent_run("a-r0", "same id"))
    with pytest.raises(InvalidQuery, match="a-r0"):
        store.upsert_sessions([a, b])
    for session_id in ("a", "b"):
        with pytest.raises(SessionNotFound):
            store.get_session(session_id)


# -- the fast path itself (SQL stores) --------------------------------------------------------


def test_a_batch_of_new_sessions_is_written_and_named_with_two_statements_on_postgres(
    sql_store: SqlStore,
) -> None:
    batch = _mixed_batch()
    sent = statements_sent(sql_store, lambda: sql_store.upsert_sessions(batch))
    # Names come with the inserted rows: no UPDATE, no read of a run. Then the search index rows
    # of the whole batch, and last the change feed's outbox: one multi-row insert, after its
    # ordering lock on PostgreSQL (the SELECT).
    if isinstance(sql_store, PostgresDb):
        assert sent == ["INSERT", "INSERT", "INSERT", "SELECT", "INSERT"]
    else:
        # SQLite (in process): one upsert per session row, one multi-row run upsert, the search
        # index rows, the change feed's outbox rows.
        assert sent == ["INSERT"] * (len(batch) + 3)
    assert all(session.version == 1 for session in batch)


def test_a_large_batch_keeps_every_run_in_order_with_its_reserved_index(sql_store: SqlStore) -> None:
    batch = [agent_session(f"s{k:03}", runs=30) for k in range(60)]
    sql_store.upsert_sessions(batch)
    runs = sql_store._tables.runs
    with sql_store._engine.connect() as conn:
        rows = conn.execute(select(runs.c.session_id, runs.c.run_id, runs.c.run_index)).all()
    assert len(rows) == 60 * 30
    by_session: dict[str, list[tuple[int, str]]] = {}
    for session_id, run_id, index in rows:
        by_session.setdefault(session_id, []).append((index, run_id))
    for session_id, indexed in by_session.items():
        assert sorted(indexed) == [(i, f"{session_id}-r{i}") for i in range(30)]
    assert isinstance(batch[0].runs[0], RunOutput)  # type: ignore[index]
    assert batch[7]._store_state.stored_runs.keys() == {f"s007-r{i}" for i in range(30)}


def test_a_workflow_name_the_database_renders_differently_is_settled_as_one_by_one(
    two_stores: tuple[SessionStore, SessionStore],
) -> None:
    # A non-string workflow name reads back as "true" (PostgreSQL) or 1 (SQLite), not "True":
    # the names computed in memory for the insert are corrected by settle_names.
    bulk, single = two_stores

    def odd() -> list[Session]:
        return [
            WorkflowSession(session_id=f"w{k}", workflow_id="wf", workflow_data={"name": name}, created_at=T0)
            for k, name in enumerate([True, 7, 0, "plain"])
        ]

    bulk.upsert_sessions(odd())
    for session in odd():
        single.upsert_session(session)
    assert _state(bulk) == _state(single)
    assert _rows(bulk) == _rows(single)


def test_concurrent_batches_over_the_same_sessions_in_any_order_all_commit(sql_store: SqlStore) -> None:
    # Each batch locks its rows in session-id order, whatever order it was given in, so
    # overlapping batches wait for each other instead of deadlocking.
    ids = [f"s{k:02}" for k in range(12)]

    def importer(worker: int) -> None:
        order = ids if worker % 2 == 0 else list(reversed(ids))
        for round_ in range(3):
            batch = []
            for session_id in order:
                session = agent_session(session_id, created_at=T0)
                session.upsert_run(agent_run(f"{session_id}-w{worker}-{round_}", f"from {worker}"))
                batch.append(session)
            sql_store.upsert_sessions(batch)

    run_concurrently(importer)
    for session_id in ids:
        stored = sql_store.get_session(session_id)
        assert stored.version == 12
        indexes = run_indexes(sql_store, session_id)
        assert sorted(indexes) == list(range(12))


def test_json_fields_of_any_shape_store_as_one_by_one(two_stores: tuple[SessionStore, SessionStore]) -> None:
    # Non-string keys, unicode, quotes and escapes: each JSON value is encoded exactly as the
    # one-row statements encode it.
    bulk, single = two_stores

    def odd() -> list[Session]:
        session = agent_session("a", runs=1, created_at=T0)
        session.session_data = {"session_state": {1: "int key", "ü": ["é", None, 1.5]}}
        return [session, agent_session("b", created_at=T0, agent_data={"quote": '"\\\n'})]

    batch, one_by_one = odd(), odd()
    one_by_one[0].runs = copy.deepcopy(batch[0].runs)
    bulk.upsert_sessions(batch)
    for session in one_by_one:
        single.upsert_session(session)
    assert _state(bulk) == _state(single)
    assert _rows(bulk) == _rows(single)
    assert bulk.get_session("a").session_data == {"session_state": {"1": "int key", "ü": ["é", None, 1.5]}}
