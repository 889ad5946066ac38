"""``sessiondb export``, ``import`` and ``copy``, run as the real entry point in a subprocess."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from sessiondb.db import SqliteDb
from sessiondb.db.transfer import ExportFilter
from sessiondb.run import Message, RunOutput
from sessiondb.session import AgentSession
from store_backends import PG_URL, postgres_schema


def sessiondb(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ``sessiondb ARGS`` (bounded: 120 s)."""
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("SESSIONDB_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "sessiondb.cli", *args], input=stdin, capture_output=True, timeout=120, env=env
    )


def _seed(path: Path, count: int = 5) -> None:
    store = SqliteDb(db_file=str(path))
    sessions = []
    for k in range(count):
        session = AgentSession(
            session_id=f"s{k}", agent_id="a1", user_id=f"u{k % 2}", created_at=1_700_000_000 + k
        )
        for i in range(3):
            session.upsert_run(
                RunOutput(
                    run_id=f"s{k}-r{i}",
                    agent_id="a1",
                    status="COMPLETED",
                    messages=[
                        Message(role="user", content=f"q{i}"),
                        Message(role="assistant", content=f"a{i}"),
                    ],
                )
            )
        sessions.append(session)
    store.upsert_sessions(sessions)
    store.close()


def _ids(path: Path) -> list[str]:
    store = SqliteDb(db_file=str(path))
    try:
        return [e.session.session_id for e in store.export_sessions(ExportFilter(), limit=100)]
    finally:
        store.close()


def test_export_import_and_import_again(tmp_path: Path) -> None:
    source, target, file = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "out.jsonl.gz"
    _seed(source)
    done = sessiondb("export", "--db", str(source), "-o", str(file), "--user-id", "u1")
    assert done.returncode == 0, done.stderr
    assert b"exported 2 sessions, 6 runs" in done.stderr
    lines = gzip.decompress(file.read_bytes()).splitlines()
    assert orjson.loads(lines[0])["filters"] == {"user_id": "u1"}
    assert [orjson.loads(line)["session_id"] for line in lines[1:]] == ["s1", "s3"]
    first = sessiondb("import", "--db", str(target), str(file), "--json")
    assert first.returncode == 0, first.stderr
    assert orjson.loads(first.stdout)["created"] == 2
    again = sessiondb("import", "--db", str(target), str(file), "--json")
    assert orjson.loads(again.stdout) == {
        "sessions_read": 2,
        "created": 0,
        "replaced": 0,
        "unchanged": 2,
        "skipped": 0,
        "runs_written": 0,
    }
    assert _ids(target) == ["s1", "s3"]


def test_export_to_stdout_and_import_from_stdin(tmp_path: Path) -> None:
    source, target = tmp_path / "a.db", tmp_path / "b.db"
    _seed(source, 2)
    exported = sessiondb("export", "--db", str(source), "--since", "1970-01-01")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.count(b"\n") == 3
    imported = sessiondb("import", "--db", str(target), "-", stdin=exported.stdout)
    assert imported.returncode == 0, imported.stderr
    assert b"2 created" in imported.stdout


def test_a_malformed_line_is_one_line_naming_it(tmp_path: Path) -> None:
    source, target = tmp_path / "a.db", tmp_path / "b.db"
    _seed(source, 3)
    lines = sessiondb("export", "--db", str(source)).stdout.splitlines(keepends=True)
    lines.insert(2, b"{not json\n")
    file = tmp_path / "bad.jsonl"
    file.write_bytes(b"".join(lines))
    done = sessiondb("import", "--db", str(target), str(file))
    assert done.returncode == 1
    assert done.stderr.decode().startswith("error: line 3: not JSON")
    assert b"Traceback" not in done.stderr and len(done.stderr.decode().strip().splitlines()) <= 2
    assert _ids(target) == ["s0"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "--db", "{db}", "{missing}"], "cannot read"),
        (["import", "--db", "{db}"], "give either an export FILE or --from-agno"),
        (["import", "--db", "{db}", "{file}", "--on-conflict", "merge"], "--on-conflict must be one of"),
        (["export", "--db", "{db}", "--since", "yesterday"], "--since: expected unix seconds"),
        (["export", "--db", "{db}", "--type", "robot"], "session_type: must be one of"),
        (["import", "--db", "{db}", "--from-agno", "{missing}"], "no Agno database"),
    ],
)
def test_user_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    db = tmp_path / "a.db"
    _seed(db, 1)
    file = tmp_path / "f.jsonl"
    file.write_bytes(b"")
    filled = [arg.format(db=db, missing=tmp_path / "missing.jsonl", file=file) for arg in args]
    done = sessiondb(*filled)
    assert done.returncode != 0
    err = done.stderr.decode()
    assert message in err, err
    assert "Traceback" not in err


@pytest.mark.postgres
def test_copy_sqlite_to_postgres_resumes_and_checks(tmp_path: Path) -> None:
    source = tmp_path / "a.db"
    _seed(source, 4)
    with postgres_schema("copy") as schema:
        url = f"{PG_URL}?schema={schema}"
        done = sessiondb("copy", "--from", str(source), "--to", url, "--json")
        assert done.returncode == 0, done.stderr
        report = orjson.loads(done.stdout)
        assert (report["created"], report["verified_sessions"], report["verified_runs"]) == (4, 4, 12)
        again = orjson.loads(sessiondb("copy", "--from", str(source), "--to", url, "--json").stdout)
        assert (again["created"], again["unchanged"], again["verified_sessions"]) == (0, 4, 4)


def test_import_from_agno(tmp_path: Path) -> None:
    from agno.db.sqlite import SqliteDb as AgnoSqliteDb
    from agno.run.agent import RunOutput as AgnoRunOutput
    from agno.session import AgentSession as AgnoAgentSession

    agno_path = tmp_path / "agno.db"
    agno = AgnoSqliteDb(db_file=str(agno_path))
    run = AgnoRunOutput(run_id="r0", session_id="s0", agent_id="a1", status="COMPLETED")
    agno.upsert_session(
        AgnoAgentSession(session_id="s0", agent_id="a1", created_at=1_700_000_000, runs=[run])
    )
    agno.upsert_run(run, session_id="s0")
    target = tmp_path / "ours.db"
    done = sessiondb("import", "--db", str(target), "--from-agno", str(agno_path), "--json")
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["created"] == 1
    assert _ids(target) == ["s0"]
