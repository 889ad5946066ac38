"""Issue 16 §4 and §7: what a user notices first: help, version, ids, deletes, migrate's report."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from alembic import command
from cli_support import assert_one_line_error, run_cli
from sqlalchemy import create_engine

from sessiondb.db import SqliteDb
from sessiondb.db._sql import migrate as migrations
from sessiondb.db._sql.tables import TableNames
from sessiondb.run import Message, RunInput, RunOutput, RunStatus
from sessiondb.session import AgentSession

HEAD = migrations.head_revision()


def _seeded(path: Path, session_ids: list[str], runs: int = 0) -> list[str]:
    store = SqliteDb(db_file=path)
    run_ids = [str(uuid.uuid4()) for _ in range(runs)]
    for session_id in session_ids:
        session = AgentSession(session_id=session_id, agent_id="assistant-agent")
        for run_id in run_ids:
            text = "a long question about the ocean floor and what lives there " * 3
            session.upsert_run(
                RunOutput(
                    run_id=run_id if session_id == session_ids[0] else f"{session_id}-{run_id}",
                    agent_id="assistant-agent",
                    input=RunInput(input_content=text),
                    content=text,
                    messages=[Message(role="user", content=text)],
                )
            )
        store.upsert_session(session)
    store.close()
    return run_ids


def test_version_and_short_help() -> None:
    version = run_cli("--version")
    short = run_cli("-h")
    sessions = run_cli("sessions", "list", "-h")

    assert version.returncode == 0 and re.fullmatch(r"sessiondb \d+\.\d+\.\S+\n", version.stdout)
    assert short.returncode == 0 and "serve" in short.stdout and "migrate" in short.stdout
    assert sessions.returncode == 0 and "--table" in sessions.stdout


def test_serve_help_fits_80_columns_with_every_option_name_whole() -> None:
    result = run_cli("serve", "--help")

    assert result.returncode == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    for option in ("--jwt-public-key", "--max-json-depth", "--auto-migrate", "--cors-origin", "--workers"):
        assert re.search(rf"(^|\s){re.escape(option)}(\s|$|=|/)", result.stdout, re.M), option


def test_show_never_cuts_ids_at_80_columns(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    session_id = "a-session-id-that-is-rather-long-" + uuid.uuid4().hex
    run_ids = _seeded(path, [session_id], runs=2)

    shown = run_cli("sessions", "show", session_id, "--db", str(path))
    listed = run_cli("sessions", "list", "--db", str(path))

    assert shown.returncode == 0, shown.stderr
    for run_id in run_ids:
        assert run_id in shown.stdout
    assert session_id in shown.stdout
    assert session_id in listed.stdout


def test_delete_names_each_missing_id_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    _seeded(path, ["kept", "gone"])

    result = run_cli("sessions", "delete", "gone", "nope", "nada", "-y", "--db", str(path))
    listed = run_cli("sessions", "list", "--db", str(path), "--json")

    message = assert_one_line_error(result)
    assert "nope" in message and "nada" in message and "gone" not in message
    assert "deleted 1 of 3" in result.stdout
    assert [item["session_id"] for item in json.loads(listed.stdout)["data"]] == ["kept"]


def test_migrate_says_where_from_which_revision_to_which(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    old = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{old}")
    with engine.connect() as conn, conn.begin():
        command.upgrade(migrations._config(conn, TableNames.build("sessions", None, None)), "0001")
    engine.dispose()

    created = run_cli("migrate", "--db", str(path))
    again = run_cli("migrate", "--db", str(path))
    upgraded = run_cli("migrate", "--db", str(old))

    assert created.stdout == f"created table sessiondb_sessions in {path} (new file) at revision {HEAD}\n"
    assert again.stdout == f"sessiondb_sessions in {path}: already up to date (revision {HEAD})\n"
    assert upgraded.stdout == f"migrated sessions in {old} from revision 0001 to {HEAD}\n"


@pytest.mark.parametrize(
    "args", [["migrate", "--db", "mysql://u:secret@h/d"], ["sessions", "list", "--db", "x://"]]
)
def test_a_bad_url_is_one_line_without_the_password(args: list[str]) -> None:
    result = run_cli(*args)

    message = assert_one_line_error(result, code=2)
    assert "secret" not in message


def test_an_unreachable_postgres_is_one_line() -> None:
    from live_server import free_port

    result = run_cli("sessions", "list", "--db", f"postgresql://u:secret@127.0.0.1:{free_port()}/x")

    message = assert_one_line_error(result)
    assert "127.0.0.1" in message and "secret" not in message


def test_list_and_show_fit_80_columns_and_keep_ids_and_statuses_whole(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    component_id = str(uuid.uuid4())
    run_id = str(uuid.uuid4())
    store = SqliteDb(db_file=path)
    session = AgentSession(session_id="s1", agent_id=component_id, user_id="u1")
    session.upsert_run(
        RunOutput(
            run_id=run_id,
            agent_id=component_id,
            status=RunStatus.completed,
            input=RunInput(input_content="what lives on the ocean floor? " * 5),
            content="sea cucumbers, mostly " * 10,
        )
    )
    store.upsert_session(session)
    store.close()

    shown = run_cli("sessions", "show", "s1", "--db", str(path))
    listed = run_cli("sessions", "list", "--db", str(path))

    for result in (shown, listed):
        assert result.returncode == 0, result.stderr
        assert max(len(line) for line in result.stdout.splitlines()) <= 80, result.stdout
    assert re.search(rf"{run_id}\s+COMPLETED\s+\d{{4}}-\d\d-\d\d \d\d:\d\d", shown.stdout), shown.stdout
    # The component column may fold onto several lines, but every character of the id is there.
    body = [line.split("│") for line in listed.stdout.splitlines() if line.startswith("│")]
    assert "".join(cells[5].strip() for cells in body) == component_id, listed.stdout
