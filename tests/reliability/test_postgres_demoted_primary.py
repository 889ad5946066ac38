"""A primary demoted under a running store (a failover or switchover), and URLs naming several
hosts: the store answers 503 once and then writes to whichever server is primary.

The full picture, with Patroni, etcd and HAProxy, is the opt-in ``tests/cluster`` suite; these
tests pin the two mechanisms it relies on against the local server.
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from sessiondb.db.errors import StoreUnavailable
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.query import SessionQuery
from sessiondb.session import AgentSession
from store_backends import PG_URL, postgres_schema

pytestmark = pytest.mark.postgres


def test_a_connection_to_a_demoted_server_is_a_503_once_then_the_store_reconnects() -> None:
    with postgres_schema("demoted") as schema:
        db = PostgresDb(db_url=PG_URL, db_schema=schema)
        try:
            db.upsert_session(AgentSession(session_id="before", agent_id="a"))
            # What a demoted primary does to the connections it already has: every write on
            # them is refused ("cannot execute ... in a read-only transaction", SQLSTATE 25006).
            with db._engine.connect() as conn:
                conn.exec_driver_sql("SET SESSION default_transaction_read_only = on")
                conn.commit()
            assert db._engine.pool.checkedin() == 1

            with pytest.raises(StoreUnavailable, match="read-only transaction"):
                db.upsert_session(AgentSession(session_id="refused", agent_id="a"))
            # The refused connection was discarded: the next write connects afresh and lands.
            db.upsert_session(AgentSession(session_id="after", agent_id="a"))
            assert {s.session_id for s in db.get_sessions(SessionQuery()).items} == {"before", "after"}
        finally:
            db.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg://u@/db?host=h1:5432&host=h2:5432", "read-write"),
        ("postgresql+psycopg://u@/db?host=h1:5432,h2:5432", "read-write"),
        ("postgresql+psycopg://u@/db?host=h1:5432&host=h2:5432&target_session_attrs=any", "any"),
        ("postgresql+psycopg://u@h1:5432/db", None),
    ],
)
def test_a_url_naming_several_hosts_asks_for_the_primary_unless_it_says_otherwise(
    url: str, expected: str | None
) -> None:
    db = PostgresDb(db_url=url, auto_migrate=False)
    try:
        assert make_url(str(db._engine.url)).query.get("target_session_attrs") == expected
    finally:
        db.close()
