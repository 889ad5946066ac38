"""Every example runs as a script: offline (TestModel, SQLite), over OpenAIChat, and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sessiondb.db.sqlite import SqliteDb
from sessiondb.models import TestModel
from sessiondb.models.fake_server import FakeOpenAIServer
from sessiondb.session import AgentSession, TeamSession, WorkflowSession
from store_backends import PG_URL, postgres_schema

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(path.name for path in EXAMPLES.glob("[!_]*.py"))


def run_example(name: str, cwd: Path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SESSIONDB_EXAMPLE_"))}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=cwd,
        env={**clean, "COLUMNS": "100", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_examples_are_there() -> None:
    assert SCRIPTS == [
        "02_persistent_session_history.py",
        "06_rename_session.py",
        "serve_app.py",  # an app module for `sessiondb serve --app`, tested in tests/api/runs_endpoints
        "team_session.py",
        "workflow_session.py",
    ]


def test_persistent_history_example_offline(tmp_path: Path) -> None:
    db_file = tmp_path / "ex.db"
    out = run_example("02_persistent_session_history.py", tmp_path, SESSIONDB_EXAMPLE_DB_FILE=str(db_file))
    assert "TestModel reply to: Tell me a new interesting fact about space" in out
    assert "Session 'session_storage' holds 4 user/assistant messages." in out
    # A second run of the script continues the same stored session.
    out = run_example("02_persistent_session_history.py", tmp_path, SESSIONDB_EXAMPLE_DB_FILE=str(db_file))
    assert "holds 8 user/assistant messages." in out
    session = SqliteDb(db_file=db_file, session_table="sessions").get_session("session_storage")
    assert isinstance(session, AgentSession) and len(session.runs or []) == 4


def test_rename_example_offline_on_the_default_sqlite_file(tmp_path: Path) -> None:
    db_file = tmp_path / "tmp" / "sessiondb_examples.db"
    out = run_example("06_rename_session.py", tmp_path)
    lines = out.strip().splitlines()
    assert "Interesting Space Facts" in lines
    generated = lines[-1]
    # A short title from the conversation, as a real model gives (issue 16 §7).
    assert generated == "Interesting Fact About Space"
    stored = SqliteDb(db_file=db_file, session_table="sessions").get_session("chat_history")
    assert (stored.session_data or {}).get("session_name") == generated


def test_team_example_offline(tmp_path: Path) -> None:
    db_file = tmp_path / "ex.db"
    out = run_example("team_session.py", tmp_path, SESSIONDB_EXAMPLE_DB_FILE=str(db_file))
    assert "Runs in the team session: TeamRunOutput, RunOutput (member)" in out
    assert "Researcher said: Octopuses have three hearts." in out
    assert isinstance(
        SqliteDb(db_file=db_file, session_table="sessions").get_session("team_session_demo"), TeamSession
    )


def test_workflow_example_offline(tmp_path: Path) -> None:
    db_file = tmp_path / "ex.db"
    out = run_example("workflow_session.py", tmp_path, SESSIONDB_EXAMPLE_DB_FILE=str(db_file))
    assert "Run 2: 2 steps, 1 agent run(s)" in out
    assert "[Workflow Run-1]\nUser input: Can you give me an example?" in out
    session = SqliteDb(db_file=db_file, session_table="sessions").get_session("workflow_session_demo")
    assert isinstance(session, WorkflowSession) and len(session.runs or []) == 2


def test_persistent_history_example_over_an_openai_compatible_server(tmp_path: Path) -> None:
    with FakeOpenAIServer(TestModel(reply="Saturn's moon Titan has lakes."), api_key="sk-example") as server:
        out = run_example(
            "02_persistent_session_history.py",
            tmp_path,
            OPENAI_BASE_URL=server.base_url,
            OPENAI_API_KEY="sk-example",
            OPENAI_MODEL="fake-model",
            SESSIONDB_EXAMPLE_DB_FILE=str(tmp_path / "ex.db"),
        )
        assert "Saturn's moon Titan has lakes." in out
        assert [request["model"] for request in server.requests] == ["fake-model", "fake-model"]
        second = server.requests[1]["messages"]
        assert [m["role"] for m in second] == ["user", "assistant", "user"]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("name", SCRIPTS)
def test_examples_on_postgres(tmp_path: Path, name: str) -> None:
    with postgres_schema("ex") as schema:
        run_example(name, tmp_path, SESSIONDB_EXAMPLE_PG_URL=PG_URL, SESSIONDB_EXAMPLE_PG_SCHEMA=schema)
