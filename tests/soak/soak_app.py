"""The app the soak serves (``sessiondb serve --app soak_app:app``): the sessions API and one agent
on a deterministic model, both on the PostgreSQL schema the soak names in the environment."""

from __future__ import annotations

import os

from fastapi import FastAPI

from sessiondb.agent import Agent
from sessiondb.api import create_app
from sessiondb.db.postgres import PostgresDb
from sessiondb.models import TestModel

AGENT_ID = "soak-agent"


def app() -> FastAPI:
    """The soak's server: ``SOAK_DB_URL`` and ``SOAK_DB_SCHEMA`` name its database."""
    store = PostgresDb(db_url=os.environ["SOAK_DB_URL"], db_schema=os.environ["SOAK_DB_SCHEMA"], id="main")
    agent = Agent(id=AGENT_ID, name="Soak", model=TestModel(), db=store)
    return create_app(dbs=[store], agents=[agent])
