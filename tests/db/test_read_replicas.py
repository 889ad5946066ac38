"""Reads from read replicas: routing by consistency floor, fallback to the primary, lag shown.

The "replica" here is the test server itself under a second URL (its replayed position is the
primary's current one); a floor beyond any position it can have stands in for a lagging replica,
and a closed port for a dead one. Real streaming replicas are in the opt-in ``tests/cluster``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from live_server import free_port
from sessiondb.db import consistency
from sessiondb.db.errors import InvalidQuery
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.query import SessionQuery
from sessiondb.run.agent import RunOutput
from sessiondb.run.message import Message
from sessiondb.session import AgentSession
from store_backends import PG_URL, postgres_schema

pytestmark = pytest.mark.postgres

FAR_FUTURE = consistency.parse_position("FFFFFFF/0")
"""A WAL position no server here has reached: a replica asked for it is behind."""


def _replica_url() -> str:
    return make_url(PG_URL).update_query_dict({"application_name": "replica"}).render_as_string(False)


def _dead_url() -> str:
    url = make_url(PG_URL).set(host="127.0.0.1", port=free_port())
    return url.update_query_dict({"connect_timeout": "2"}).render_as_string(False)


@pytest.fixture
def store() -> Iterator[PostgresDb]:
    with postgres_schema("replicas") as schema:
        db = PostgresDb(db_url=PG_URL, db_schema=schema, read_replica_urls=[_replica_url()])
        session = AgentSession(session_id="s1", user_id="ada", agent_id="a")
        session.upsert_run(RunOutput(agent_id="a", messages=[Message(role="user", content="hi")]))
        db.upsert_session(session)
        try:
            yield db
        finally:
            db.close()


@pytest.fixture(autouse=True)
def _fresh_consistency() -> Iterator[None]:
    # Each test sets its own floor; none may leak into the tests after it.
    token = consistency.current.set(None)
    yield
    consistency.current.reset(token)


def _reads(store: PostgresDb) -> tuple[int, int]:
    details = store.health_details()
    return details["replicas"][0]["reads"], details["primary_reads"]


def _with_floor(floor: int | None) -> consistency.Consistency:
    state = consistency.Consistency(floor=floor)
    consistency.current.set(state)
    return state


def test_reads_without_a_floor_are_served_by_a_replica(store: PostgresDb) -> None:
    assert store.reads_from_replicas
    before = _reads(store)
    assert store.get_session("s1").runs is not None
    assert [s.session_id for s in store.get_sessions(SessionQuery(user_id="ada")).items] == ["s1"]
    assert len(store.get_runs("s1")) == 1
    replica_reads, primary_reads = _reads(store)
    assert (replica_reads - before[0], primary_reads - before[1]) == (3, 0)


def test_a_replica_behind_the_floor_is_skipped_for_the_primary(store: PostgresDb) -> None:
    _with_floor(FAR_FUTURE)
    before = _reads(store)
    assert len(store.get_session("s1").runs or []) == 1
    replica_reads, primary_reads = _reads(store)
    assert (replica_reads - before[0], primary_reads - before[1]) == (0, 1)


def test_a_write_raises_the_floor_to_its_commit_position(store: PostgresDb) -> None:
    state = _with_floor(None)
    store.update_session("s1", session_state={"k": 1})
    assert state.written is not None and state.floor == state.written
    # The replica (the same server) has that position: the read after the write may use it
    # and sees the write.
    assert store.get_session("s1").session_data is not None
    assert store.get_session("s1").session_data["session_state"] == {"k": 1}  # type: ignore[index]


def test_a_write_without_replicas_records_nothing() -> None:
    with postgres_schema("noreplicas") as schema:
        db = PostgresDb(db_url=PG_URL, db_schema=schema)
        try:
            state = _with_floor(None)
            db.upsert_session(AgentSession(session_id="s1", agent_id="a"))
            assert state.written is None
            assert not db.reads_from_replicas and db.health_details() == {}
        finally:
            db.close()


def test_a_dead_replica_is_skipped_and_reported() -> None:
    with postgres_schema("deadreplica") as schema:
        db = PostgresDb(db_url=PG_URL, db_schema=schema, read_replica_urls=[_dead_url()])
        try:
            db.upsert_session(AgentSession(session_id="s1", agent_id="a"))
            assert db.get_session("s1").session_id == "s1"
            details = db.health_details()
            assert details["primary_reads"] >= 1
            assert details["replicas"][0]["reads"] == 0
            assert "refused" in details["replicas"][0]["error"]
        finally:
            db.close()


def test_health_details_show_each_replica_and_its_lag(store: PostgresDb) -> None:
    details = store.health_details()
    (replica,) = details["replicas"]
    assert "replica" in replica["url"] and replica["error"] is None
    assert replica["lag_bytes"] is not None and replica["lag_bytes"] >= 0
    assert consistency.parse_position(replica["replayed"]) > 0


@pytest.mark.parametrize("token", ["", "16B374D848", "x/1", "1/2/3", "123456789/0"])
def test_a_token_that_is_not_a_wal_position_is_refused(token: str) -> None:
    with pytest.raises(InvalidQuery, match=consistency.HEADER):
        consistency.parse_position(token)


def test_tokens_round_trip_and_order_as_positions() -> None:
    assert consistency.parse_position("16/B374D848") == (0x16 << 32) | 0xB374D848
    assert consistency.format_position(consistency.parse_position("16/B374D848")) == "16/B374D848"
    assert consistency.parse_position("0/FFFFFFFF") < consistency.parse_position("1/0")
