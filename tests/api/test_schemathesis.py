"""schemathesis against the served OpenAPI document: no 5xx, and every response matches its schema."""

from __future__ import annotations

import pytest
import schemathesis
from api_seed import agent_run, seed_agent_session, seed_team_session, seed_workflow_session
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sessiondb.api import create_app
from sessiondb.db.memory import InMemoryDb

_store = InMemoryDb(id="main")
seed_agent_session(_store, "s1", runs=[agent_run("r1", "hello")])
seed_team_session(_store, "t1")
seed_workflow_session(_store, "w1")


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: object, value: object) -> bytes:
    """``POST /import`` takes JSON Lines; the generated body (any string) is sent as its text."""
    return value.encode() if isinstance(value, str) else repr(value).encode()


# GET /changes is an endless event stream, which an in-process call would wait on forever; its
# parameters and errors are tested in test_trash_and_feed_endpoints.py, its stream over real
# servers in test_changes_feed.py.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(dbs=[_store])).exclude(path="/changes")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case) -> None:
    case.call_and_validate(
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ]
    )
