"""Serve an agent, a team and a workflow next to the sessions API.

    sessiondb serve --app examples.serve_app:app            # from the project root
    sessiondb serve --app examples.serve_app:app --security-key s3cret
    .venv/bin/python examples/serve_app.py        # one run of each through the API, in process, printed

Then run them over HTTP, as with Agno's AgentOS (form fields; ``stream=false`` for one JSON
reply, server-sent events otherwise), and read the stored sessions back::

    curl -X POST localhost:7777/agents/assistant/runs -d message=hello -d stream=false
    curl -X POST localhost:7777/teams/research-team/runs -d message=hello -d session_id=s1
    curl localhost:7777/sessions

Offline by default (``TestModel``, SQLite at ``SESSIONDB_EXAMPLE_DB_FILE``, default
``tmp/serve_app.db``); ``OpenAIChat`` when ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` is set, and
PostgreSQL when ``SESSIONDB_EXAMPLE_PG_URL`` is (schema ``SESSIONDB_EXAMPLE_PG_SCHEMA``).
"""

from __future__ import annotations

import os

from sessiondb.agent import Agent
from sessiondb.api import create_app
from sessiondb.db.base import SessionStore
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.sqlite import SqliteDb
from sessiondb.models import Model, TestModel
from sessiondb.team import Team
from sessiondb.workflow import Step, StepInput, Workflow


def _model() -> Model:
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        # Imported here: offline runs never need the openai SDK.
        from sessiondb.models.openai import OpenAIChat

        return OpenAIChat(id=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
    return TestModel()


def _db() -> SessionStore:
    pg_url = os.environ.get("SESSIONDB_EXAMPLE_PG_URL")
    if pg_url:
        return PostgresDb(db_url=pg_url, db_schema=os.environ.get("SESSIONDB_EXAMPLE_PG_SCHEMA"), id="main")
    return SqliteDb(db_file=os.environ.get("SESSIONDB_EXAMPLE_DB_FILE", "tmp/serve_app.db"), id="main")


db = _db()

assistant = Agent(
    name="Assistant",
    model=_model(),
    db=db,
    instructions="You are a helpful assistant.",
    add_history_to_context=True,
)

researcher = Agent(name="Researcher", model=_model(), role="Finds facts")
team = Team(name="Research Team", model=_model(), db=db, members=[researcher], add_history_to_context=True)


def shout(step_input: StepInput) -> str:
    """A plain function step: upper-case the previous step's answer."""
    return str(step_input.previous_step_content or "").upper()


workflow = Workflow(
    name="Draft and Shout",
    db=db,
    steps=[Step(name="Draft", agent=Agent(name="Drafter", model=_model())), shout],
)

app = create_app(agents=[assistant], teams=[team], workflows=[workflow])


async def _demo() -> None:
    """One run of each runtime through the HTTP API, in process (no port is opened)."""
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sessiondb") as client:
        for path in (
            "/agents/assistant/runs",
            "/teams/research-team/runs",
            "/workflows/draft-and-shout/runs",
        ):
            form = {"message": "Tell me about octopuses", "stream": "false", "session_id": path.split("/")[2]}
            run = (await client.post(path, data=form)).json()
            print(f"POST {path} -> {run['status']}: {run['content']}")
        sessions = (await client.get("/sessions")).json()
        print(f"GET /sessions -> {sorted(s['session_id'] for s in sessions['data'])}")


if __name__ == "__main__":
    import anyio

    anyio.run(_demo)
