"""``serve --retention FILE --soft-delete``: policies and the purge run on a schedule."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx

from live_server import live_server
from sessiondb.api.maintenance import Maintenance
from sessiondb.db.memory import InMemoryDb
from sessiondb.db.query import SessionQuery
from sessiondb.db.retention import RetentionPolicy
from sessiondb.db.sqlite import SqliteDb
from sessiondb.session import AgentSession

OLD = int(time.time()) - 100 * 86400


def test_a_turn_applies_each_policy_then_purges_the_trash() -> None:
    store = InMemoryDb(soft_delete=timedelta(0))
    store.upsert_session(AgentSession(session_id="old", user_id="u", created_at=OLD))
    store.upsert_session(AgentSession(session_id="new", user_id="u"))
    Maintenance([store], [RetentionPolicy(older_than=timedelta(days=90))]).run_once()
    # Moved to the trash by the policy, then purged at once: the grace period is zero.
    assert [s.session_id for s in store.get_sessions(SessionQuery()).items] == ["new"]
    assert store.get_sessions(SessionQuery(deleted=True)).items == []


def test_serve_moves_old_sessions_to_the_trash_at_start_up(tmp_path: Path) -> None:
    database = tmp_path / "kept.db"
    store = SqliteDb(db_file=database)
    store.upsert_session(AgentSession(session_id="old", user_id="u", created_at=OLD))
    store.upsert_session(AgentSession(session_id="new", user_id="u"))
    store.close()
    policies = tmp_path / "retention.toml"
    policies.write_text('[[policy]]\ninactive_for = "30d"\n')
    args = ["--db", str(database), "--soft-delete", "7d", "--retention", str(policies)]
    with live_server(args, log_path=tmp_path / "serve.log") as server:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            trash = httpx.get(f"{server.base_url}/sessions", params={"deleted": "true"}).json()["data"]
            if trash:
                break
            time.sleep(0.2)
        assert [item["session_id"] for item in trash] == ["old"]
        live = httpx.get(f"{server.base_url}/sessions").json()["data"]
        assert [item["session_id"] for item in live] == ["new"]
        assert "retention moved to the trash 1 sessions" in server.output()


def test_serve_refuses_a_malformed_policy_file_in_one_line(tmp_path: Path) -> None:
    policies = tmp_path / "retention.toml"
    policies.write_text('[[policy]]\nolder_than = "a while"\n')
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sessiondb.cli",
            "serve",
            "--db",
            str(tmp_path / "x.db"),
            "--retention",
            str(policies),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "policy #1: older_than" in result.stderr and "Traceback" not in result.stderr


def test_serve_prunes_the_change_feed_even_without_a_trash_or_policies(tmp_path: Path) -> None:
    database = tmp_path / "feed.db"
    store = SqliteDb(db_file=database)
    store.upsert_session(AgentSession(session_id="s1", user_id="u"))
    assert len(store.changes(None).items) == 1
    time.sleep(1.1)  # older than the window below
    with live_server(["--db", str(database), "--changes-window", "1s"], log_path=tmp_path / "serve.log"):
        deadline = time.monotonic() + 10
        while store.changes(None).items and time.monotonic() < deadline:
            time.sleep(0.2)
        assert store.changes(None).items == []
    store.close()
