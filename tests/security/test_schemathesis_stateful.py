"""schemathesis over the whole OpenAPI document, stateful: creates feed reads, updates and deletes.

The document's ``links`` (``POST /sessions`` and ``GET /sessions`` link to every operation
on the session they name) let schemathesis chain calls: create a session, then read, patch,
rename, list the runs of and delete that very session, and check afterwards that a deleted
one is gone. The runtime endpoints are served too: an agent, a team and a workflow on
deterministic models, over one store, so a run of one kind may land in a session another
kind created (a documented 409; pinned by the test at the end). Every default check
applies: no 5xx, every status and body as documented, invalid input refused with a 4xx,
and (auth is on) a request without the key refused with a 401.
"""

from __future__ import annotations

import time
from typing import Any

import schemathesis
from api_seed import agent_run, seed_agent_session, seed_team_session, seed_workflow_session
from api_support import asgi_client
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import CheckFunction
from schemathesis.specs.openapi.checks import positive_data_acceptance

from sessiondb.agent import Agent
from sessiondb.api import AuthConfig, create_app
from sessiondb.db.memory import InMemoryDb
from sessiondb.models import TestModel
from sessiondb.team import Team
from sessiondb.workflow import Step, Workflow

BUDGET_SECONDS = 60
KEY = "stateful-test-key"


def _app(*, every_kind: bool = False) -> Any:
    store = InMemoryDb(id="main")
    seed_agent_session(store, "s1", runs=[agent_run("r1", "hello")])
    seed_team_session(store, "t1")
    seed_workflow_session(store, "w1")
    agent = Agent(id="helper", name="Helper", model=TestModel(), db=store)
    runtimes: dict[str, Any] = {"agents": [agent]}
    if every_kind:
        member = Agent(name="Member", model=TestModel(), role="helps")
        runtimes["teams"] = [Team(id="crew", name="Crew", model=TestModel(), db=store, members=[member])]
        writer = Agent(name="W", model=TestModel())
        runtimes["workflows"] = [
            Workflow(id="flow", name="Flow", db=store, steps=[Step(name="Write", agent=writer)])
        ]
    return create_app(dbs=[store], auth=AuthConfig(security_key=KEY), **runtimes)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app(every_kind=True))


class APIWorkflow(schema.as_state_machine()):  # type: ignore[misc]
    """The generated state machine, calling with the security key."""

    def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
        """Send the key; schemathesis's own auth check still sends requests without it."""
        return {"headers": {"Authorization": f"Bearer {KEY}"}}

    def validate_response(
        self,
        response: Any,
        case: schemathesis.Case[Any],
        additional_checks: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Every default check, but one on the run forms (see below)."""
        # The run forms carry session_state and metadata as JSON text: OpenAPI says so with
        # contentMediaType/contentSchema, which schemathesis does not apply, so it takes any
        # string ("False") for valid data. The server rightly refuses those with a 422.
        excluded: list[CheckFunction] = (
            [positive_data_acceptance] if case.path.endswith("/runs") and case.method == "POST" else []
        )
        case.validate_response(
            response,
            additional_checks=additional_checks,
            excluded_checks=excluded,
            transport_kwargs=kwargs or None,
            recorder=self.recorder,
        )


def test_the_document_links_creates_and_listings_to_the_session_operations() -> None:
    document = schema.raw_schema
    created = document["paths"]["/sessions"]["post"]["responses"]["201"]["links"]
    listed = document["paths"]["/sessions"]["get"]["responses"]["200"]["links"]

    # schemathesis may add links of its own (by operationRef); ours name the operation.
    assert {link.get("operationId") for link in created.values()} >= {
        "get_session_by_id",
        "update_session",
        "rename_session",
        "delete_session",
        "get_session_runs",
        "get_session_run_previews",
    }
    assert created["GetSession"]["parameters"] == {"session_id": "$response.body#/session_id"}
    assert listed["GetSession"]["parameters"] == {"session_id": "$response.body#/data/0/session_id"}


def test_stateful_scenarios_find_no_5xx_and_no_schema_violation() -> None:
    started = time.monotonic()

    APIWorkflow.run(
        settings=settings(
            max_examples=80,
            stateful_step_count=8,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )

    assert time.monotonic() - started < BUDGET_SECONDS


async def test_a_run_into_a_session_of_another_kind_is_a_409_and_writes_nothing() -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    app = _app(every_kind=True)
    store = app.state.runtimes.get("agents", "helper").db
    async for client in asgi_client(app):
        created = await client.post(
            "/workflows/flow/runs",
            data={"message": "x", "stream": "false", "session_id": "c"},
            headers=headers,
        )
        assert created.status_code == 200, created.text
        before = store.get_session("c")

        for stream in ("false", "true"):
            clash = await client.post(
                "/agents/helper/runs",
                data={"message": "y", "stream": stream, "session_id": "c"},
                headers=headers,
            )

            assert clash.status_code == 409, clash.text
            assert clash.headers["content-type"].startswith("application/json")
            detail = clash.json()["detail"]
            assert "'c'" in detail and "'workflow'" in detail and "'agent'" in detail
        after = store.get_session("c")
        assert after.session_type == "workflow"
        assert after.to_dict() == before.to_dict()
