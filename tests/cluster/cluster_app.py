"""The app every ``sessiondb serve`` of the cluster tests runs, over the PostgreSQL URL in
``SESSIONDB_CLUSTER_DB_URL`` (and the replica in ``SESSIONDB_CLUSTER_REPLICA_URL``, if set): an
agent on the deterministic ``TestModel`` double, and the hot-session agent and team of
``tests/hot_session.py`` (each run writes a state key of its own).

    sessiondb serve --app cluster_app:app      # with tests/cluster and tests on PYTHONPATH
"""

from __future__ import annotations

import os

from hot_session import hot_runtimes
from sessiondb.agent import Agent
from sessiondb.api import create_app
from sessiondb.db.postgres import PostgresDb
from sessiondb.models import TestModel

replica = os.environ.get("SESSIONDB_CLUSTER_REPLICA_URL")
db = PostgresDb(
    db_url=os.environ["SESSIONDB_CLUSTER_DB_URL"], id="main", read_replica_urls=[replica] if replica else []
)
assistant = Agent(name="Assistant", model=TestModel(), db=db, add_history_to_context=True)
hot_agent, hot_team = hot_runtimes(db)
app = create_app(agents=[assistant, hot_agent], teams=[hot_team])
