"""``sessiondb retention`` and ``sessiondb purge``, run as the real command in a subprocess,
over SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sessiondb.db.query import SessionQuery
from sessiondb.run import RunOutput
from sessiondb.session import AgentSession
from store_backends import PG_URL, SqlTarget, sql_target_for

OLD = int(time.time()) - 100 * 86400


def _session(session_id: str, *, user_id: str, runs: int, created_at: int | None = None) -> AgentSession:
    session = AgentSession(session_id=session_id, user_id=user_id, agent_id="a1", created_at=created_at)
    for k in range(runs):
        session.upsert_run(RunOutput(run_id=f"{session_id}-r{k}", agent_id="a1", status="COMPLETED"))
    return session


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlTarget]:
    """A database holding two old sessions (alice's with 2 runs, bob's with 1) and a new one."""
    with sql_target_for(request.param, tmp_path) as found:
        store = found.open()
        store.upsert_session(_session("old-alice", user_id="alice", runs=2, created_at=OLD))
        store.upsert_session(_session("old-bob", user_id="bob", runs=1, created_at=OLD))
        store.upsert_session(_session("new", user_id="alice", runs=1))
        store.close()
        yield found


def _url(target: SqlTarget) -> str:
    return target.location if target.kind == "sqlite" else f"{PG_URL}?schema={target.schema}"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sessiondb.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _live(target: SqlTarget, *, deleted: bool = False) -> list[str]:
    store = target.open()
    try:
        return sorted(s.session_id for s in store.get_sessions(SessionQuery(deleted=deleted)).items)
    finally:
        store.close()


def test_a_dry_run_lists_what_would_go_and_the_real_run_deletes_it(target: SqlTarget) -> None:
    url = _url(target)
    dry = _run("retention", "--db", url, "--older-than", "90d", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) == {
        "dry_run": True,
        "sessions": 2,
        "runs": 3,
        "session_ids": ["old-alice", "old-bob"],
    }
    plain = _run("retention", "--db", url, "--inactive-for", "30d", "--user-id", "bob", "--dry-run")
    assert plain.returncode == 0 and "would remove 1 sessions (1 runs)" in plain.stdout
    assert _live(target) == ["new", "old-alice", "old-bob"]

    real = _run("retention", "--db", url, "--older-than", "90d", "--batch-size", "1")
    assert real.returncode == 0, real.stderr
    assert "deleted 2 sessions (3 runs)" in real.stdout
    assert _live(target) == ["new"]


def test_with_soft_delete_retention_fills_the_trash_and_purge_empties_it(target: SqlTarget) -> None:
    url = _url(target)
    moved = _run("retention", "--db", url, "--older-than", "90d", "--soft-delete", "7d", "--json")
    assert json.loads(moved.stdout) == {"dry_run": False, "sessions": 2, "runs": 3, "soft": True}
    assert _live(target, deleted=True) == ["old-alice", "old-bob"]
    early = _run("purge", "--db", url, "--soft-delete", "7d", "--json")
    assert json.loads(early.stdout)["sessions"] == 0
    purged = _run("purge", "--db", url, "--soft-delete", "0s", "--json")
    assert purged.returncode == 0, purged.stderr
    assert json.loads(purged.stdout)["sessions"] == 2 and json.loads(purged.stdout)["runs"] == 3
    assert _live(target, deleted=True) == [] and _live(target) == ["new"]


def test_bad_options_are_one_line_errors_and_delete_nothing(tmp_path: Path) -> None:
    with sql_target_for("sqlite", tmp_path) as target:
        store = target.open()
        store.upsert_session(_session("old", user_id="alice", runs=1, created_at=OLD))
        store.close()
        cases = [
            ([], "--older-than and --inactive-for"),
            (["--older-than", "ninety days"], "--older-than"),
            (["--inactive-for", "0d", "--type", "agent"], "positive"),
            (["--older-than", "90d", "--type", "robot"], "--type"),
        ]
        for args, named in cases:
            result = _run("retention", "--db", _url(target), *args)
            assert result.returncode == 2, args
            assert named in result.stderr and "Traceback" not in result.stderr, result.stderr
            assert len(result.stderr.strip().splitlines()) <= 2
        assert _live(target) == ["old"]
