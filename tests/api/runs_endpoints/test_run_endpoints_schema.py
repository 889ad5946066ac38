"""schemathesis on the runtime endpoints of an app hosting runtimes: no 5xx, replies as documented."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from run_support import Hosted
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sessiondb.api import create_app
from sessiondb.db.memory import InMemoryDb

_hosted = Hosted(InMemoryDb(id="main"))
_app = create_app(agents=[_hosted.agent], teams=[_hosted.team], workflows=[_hosted.workflow])
schema = schemathesis.openapi.from_asgi("/openapi.json", _app).include(
    path_regex="^/(agents|teams|workflows)"
)

_EXISTING = {"agent_id": "helper", "team_id": "research-team", "workflow_id": "draft"}


@schema.hook
def map_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    """Fuzz the forms of runtimes that exist, not only the 404 of random ids."""
    if path_parameters:
        return {name: _EXISTING.get(name, value) for name, value in path_parameters.items()}
    return path_parameters


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_runtime_endpoints_conform_to_their_openapi_document(case: schemathesis.Case) -> None:
    case.call_and_validate(
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ]
    )
