"""A process that starts an agent run whose model never answers, for the run lease test.

Usage: ``python lease_child.py sqlite <file>`` or ``python lease_child.py postgres <url> <schema>``.
The run is stored ``RUNNING`` and leased; the parent kills this process with SIGKILL mid-run.
"""

from __future__ import annotations

import sys
import time

from sessiondb.agent.agent import Agent
from sessiondb.db._sql import SqlStore
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.sqlite import SqliteDb
from sessiondb.models import ModelRequest
from sessiondb.models.function import FunctionModel
from sessiondb.run import Message

SESSION_ID = "leased"


def _stall(messages: list[Message], request: ModelRequest) -> str:
    time.sleep(600)  # far longer than the test: the process is killed while the model "thinks"
    return "never sent"


def main(argv: list[str]) -> None:
    """Run one agent run in session ``leased`` until killed."""
    store: SqlStore
    if argv[0] == "sqlite":
        store = SqliteDb(db_file=argv[1], auto_migrate=False)
    else:
        store = PostgresDb(db_url=argv[1], db_schema=argv[2], auto_migrate=False)
    agent = Agent(model=FunctionModel(function=_stall), db=store, session_id=SESSION_ID)
    agent.run("are you there?")


if __name__ == "__main__":
    main(sys.argv[1:])
