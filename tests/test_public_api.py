"""The curated public surface: what ``sessiondb`` exports is deliberate, documented and importable."""

from __future__ import annotations

import importlib
import subprocess
import sys

import sessiondb

EXPECTED = {
    "Agent",
    "AgentSession",
    "InMemoryDb",
    "InvalidQuery",
    "Message",
    "PostgresDb",
    "RunNotFound",
    "RunOutput",
    "RunStatus",
    "SchemaNotReady",
    "SessionAlreadyExists",
    "SessionInTrash",
    "SessionNotFound",
    "SessionOwnedByAnotherUser",
    "SessionQuery",
    "SessionStore",
    "SessionSummary",
    "SessionTypeMismatch",
    "SqliteDb",
    "StoreError",
    "StoreUnavailable",
    "Team",
    "TeamRunOutput",
    "TeamSession",
    "VersionConflict",
    "Workflow",
    "WorkflowChatInteraction",
    "WorkflowRunOutput",
    "WorkflowSession",
    "__version__",
}


def test_all_lists_exactly_the_curated_names() -> None:
    assert set(sessiondb.__all__) == EXPECTED
    assert len(sessiondb.__all__) == len(EXPECTED), "duplicate names in __all__"


def test_every_exported_name_resolves_and_public_classes_have_docstrings() -> None:
    for name in sessiondb.__all__:
        value = getattr(sessiondb, name)
        if isinstance(value, type):
            assert value.__doc__, f"{name} has no docstring"


def test_seed_import_paths_exist_with_only_the_package_renamed() -> None:
    # The seed examples import agno.agent.agent.Agent, agno.db.postgres.PostgresDb and
    # agno.models.openai.OpenAIChat; the same module paths work under sessiondb.
    assert importlib.import_module("sessiondb.agent.agent").Agent is sessiondb.Agent
    assert importlib.import_module("sessiondb.db.postgres").PostgresDb is sessiondb.PostgresDb
    assert importlib.import_module("sessiondb.db.sqlite").SqliteDb is sessiondb.SqliteDb
    assert hasattr(importlib.import_module("sessiondb.models.openai"), "OpenAIChat")


def test_importing_the_package_does_not_load_the_web_stack_or_the_openai_sdk() -> None:
    # A library user who only stores sessions should not pay for FastAPI or the OpenAI SDK.
    code = "import sys, sessiondb; print('fastapi' in sys.modules, 'openai' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
