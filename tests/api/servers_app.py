"""The app each ``sessiondb serve --app servers_app:app`` of ``test_servers_share_one_database.py``
runs: one agent, ``gated``, over the PostgreSQL URL in ``SESSIONDB_SERVERS_DB_URL`` (schema
``SESSIONDB_SERVERS_DB_SCHEMA``), whose model
answers only once the file named by ``SESSIONDB_SERVERS_GATE`` exists (a run holds still mid-way
in one server while the test acts through another).
"""

from __future__ import annotations

import os

import anyio

from sessiondb.agent import Agent
from sessiondb.api import create_app
from sessiondb.db.postgres import PostgresDb
from sessiondb.models import FunctionModel, ModelRequest
from sessiondb.run.message import Message

GATE_WAIT_S = 20
"""How long a model call waits for the gate file before answering anyway (every wait bounded)."""

gate = anyio.Path(os.environ["SESSIONDB_SERVERS_GATE"])


async def _through_gate(messages: list[Message], request: ModelRequest) -> str:
    with anyio.move_on_after(GATE_WAIT_S):
        # The test process makes the file: there is no event in this process to wait on.
        while not await gate.exists():  # noqa: ASYNC110
            await anyio.sleep(0.05)
    return f"done: {request.last_user_text()}"


url, schema = os.environ["SESSIONDB_SERVERS_DB_URL"], os.environ["SESSIONDB_SERVERS_DB_SCHEMA"]
db = PostgresDb(db_url=url, db_schema=schema, id="main")
app = create_app(agents=[Agent(id="gated", model=FunctionModel(function=_through_gate), db=db)])
