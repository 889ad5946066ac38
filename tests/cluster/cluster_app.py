"""The app every ``sessiondb serve`` of the cluster tests runs: one agent (the deterministic
``TestModel`` double) over the PostgreSQL URL in ``SESSIONDB_CLUSTER_DB_URL``.

    sessiondb serve --app cluster_app:app      # with tests/cluster on PYTHONPATH
"""

from __future__ import annotations

import os

from sessiondb.agent import Agent
from sessiondb.api import create_app
from sessiondb.db.postgres import PostgresDb
from sessiondb.models import TestModel

replica = os.environ.get("SESSIONDB_CLUSTER_REPLICA_URL")
db = PostgresDb(
    db_url=os.environ["SESSIONDB_CLUSTER_DB_URL"], id="main", read_replica_urls=[replica] if replica else []
)
assistant = Agent(name="Assistant", model=TestModel(), db=db, add_history_to_context=True)
app = create_app(agents=[assistant])
