"""``sessiondb sessions search``, run as the installed ``sessiondb`` command in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sessiondb.db import SqliteDb
from sessiondb.run import Message, RunOutput
from sessiondb.session import AgentSession

SESSIONDB = str(Path(sys.executable).parent / "sessiondb")


def _run(text: str, run_id: str, created_at: int) -> RunOutput:
    return RunOutput(
        run_id=run_id,
        agent_id="a1",
        status="COMPLETED",
        created_at=created_at,
        messages=[Message(role="user", content=text), Message(role="assistant", content="noted")],
    )


@pytest.fixture
def db_file(tmp_path: Path) -> str:
    path = tmp_path / "search.db"
    store = SqliteDb(db_file=path)
    alice = [
        _run("deploy the [bold]api[/bold] <today>", "ra0", 1_700_000_000),
        _run("lunch", "ra1", 1_700_000_001),
    ]
    store.upsert_session(AgentSession(session_id="alice-1", user_id="alice", agent_id="a1", runs=alice))
    bob = [_run("deployment of bob", "rb0", 1_700_000_002)]
    store.upsert_session(AgentSession(session_id="bob-1", user_id="bob", agent_id="a1", runs=bob))
    store.close()
    return str(path)


def _sessiondb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SESSIONDB, *args], capture_output=True, text=True, timeout=60, env={"COLUMNS": "200", "PATH": ""}
    )


def test_search_prints_a_table_of_hits(db_file: str) -> None:
    done = _sessiondb("sessions", "search", "deplo*", "--db", db_file)
    assert done.returncode == 0, done.stderr
    assert "2 hit(s)" in done.stdout
    assert "alice-1" in done.stdout and "bob-1" in done.stdout
    # The snippet is shown as text: escaped HTML unescaped, Rich markup in it left alone.
    assert "[bold]api[/bold] <today>" in done.stdout


def test_search_json_with_filters_and_cursor(db_file: str) -> None:
    done = _sessiondb("sessions", "search", "deplo*", "--db", db_file, "--user", "alice", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert [hit["run_id"] for hit in body["data"]] == ["ra0"]
    assert "<mark>deploy</mark>" in body["data"][0]["snippet"]
    assert body["meta"] == {"limit": 20, "next_cursor": None}
    first = json.loads(
        _sessiondb("sessions", "search", "deplo*", "--db", db_file, "--limit", "1", "--json").stdout
    )
    cursor = first["meta"]["next_cursor"]
    rest = _sessiondb(
        "sessions", "search", "deplo*", "--db", db_file, "--limit", "1", "--cursor", cursor, "--json"
    )
    assert [hit["run_id"] for hit in json.loads(rest.stdout)["data"]] != [first["data"][0]["run_id"]]


def test_bad_input_is_a_one_line_error_without_traceback(db_file: str) -> None:
    for args, field in ((["***"], "q:"), (["deploy", "--cursor", "nonsense"], "cursor:")):
        done = _sessiondb("sessions", "search", *args, "--db", db_file)
        assert done.returncode != 0
        assert done.stderr.strip().startswith(f"error: {field}"), done.stderr
        assert len(done.stderr.strip().splitlines()) <= 2 and "Traceback" not in done.stderr
