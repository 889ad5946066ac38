"""Several ``sessiondb serve`` processes over one PostgreSQL behave as one server (issue 21 §1).

Real servers in child processes, on ports 19600-19699, each with its own connections: what one
process knows only through the database is what these tests check. The change feed of every
server shows every server's writes (``LISTEN``/``NOTIFY``), scheduled retention runs in one
server at a time (an advisory lock) and acts once, and a cancel asked of one server stops a run
executing in another. The Patroni/HAProxy variants are in ``tests/cluster`` (opt-in).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from feed_client import Event, open_feed

from live_server import LiveServer, live_server
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.query import SessionQuery
from sessiondb.run.status import RunStatus
from sessiondb.session import AgentSession
from store_backends import PG_URL, postgres_schema

pytestmark = pytest.mark.postgres

FEED_BOUND_S = 1.0
"""The issue's promise: a write shows in every server's feed within a second of its 2xx."""

OLD = int(time.time()) - 100 * 86400
TESTS_API = Path(__file__).parent


def wait_until(what: str, check: Callable[[], bool], timeout: float = 15) -> None:
    """Poll ``check`` every 50 ms until it holds; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


@contextmanager
def migrated_schema() -> Iterator[tuple[str, PostgresDb]]:
    """A fresh schema, migrated once here (not raced by the servers), and a store on it."""
    with postgres_schema("servers") as schema:
        store = PostgresDb(db_url=PG_URL, db_schema=schema, id="check")
        store.migrate()
        try:
            yield schema, store
        finally:
            store.close()


@contextmanager
def servers(
    args: list[str], ports: range, tmp_path: Path, env: dict[str, str] | None = None
) -> Iterator[list[LiveServer]]:
    """``sessiondb serve args`` on each of ``ports``, started side by side, stopped when the block ends."""
    with ExitStack() as stack, ThreadPoolExecutor(len(ports)) as pool:
        # Started at once: a start-up is mostly imports, and waiting for each in turn triples it.
        starting = [
            pool.submit(
                stack.enter_context,
                live_server(args, log_path=tmp_path / f"serve-{port}.log", env=env, port=port),
            )
            for port in ports
        ]
        yield [started.result(timeout=60) for started in starting]


def test_each_servers_feed_shows_every_servers_writes_within_a_second(tmp_path: Path) -> None:
    with (
        migrated_schema() as (schema, _),
        servers(["--db", f"{PG_URL}?schema={schema}"], range(19610, 19613), tmp_path) as running,
    ):
        writes = [(f"s{number}", running[number % 3]) for number in range(12)]
        seen: list[dict[str, float]] = [{} for _ in running]

        def follow(index: int, ready: threading.Event) -> None:
            # after=0: every change kept, so opening the feed races no write.
            with open_feed(running[index].base_url, params={"after": 0}, read_s=10) as feed:
                ready.set()
                while len(seen[index]) < len(writes):
                    event: Event = feed.next()
                    if event.event == "session.created":
                        seen[index][event.data["session_id"]] = time.monotonic()

        acknowledged: dict[str, float] = {}
        with ThreadPoolExecutor(len(running)) as pool:
            readers = []
            for index in range(len(running)):
                ready = threading.Event()
                readers.append(pool.submit(follow, index, ready))
                assert ready.wait(10), "a feed did not open"
            for session_id, server in writes:
                body = {"session_id": session_id, "user_id": "ada", "agent_id": "a"}
                answer = httpx.post(f"{server.base_url}/sessions", params={"type": "agent"}, json=body)
                acknowledged[session_id] = time.monotonic()
                assert answer.status_code == 201, answer.text
                time.sleep(0.05)  # spread over time: each write's own latency is measured
            for reader in readers:
                reader.result(timeout=20)

    delays = {
        (index, session_id): seen[index][session_id] - acknowledged[session_id]
        for index in range(len(seen))
        for session_id, _ in writes
    }
    slowest = max(delays.values())
    print(f"\nslowest of {len(delays)} feed deliveries across 3 servers: {slowest * 1000:.0f} ms")
    assert slowest < FEED_BOUND_S, sorted(delays.items(), key=lambda item: -item[1])[:5]


def _ids(store: PostgresDb, query: SessionQuery) -> list[str]:
    return [session.session_id for session in store.get_sessions(query).items]


def _logged_total(logs: list[str], pattern: str) -> int:
    return sum(int(count) for log in logs for count in re.findall(pattern, log))


def test_scheduled_retention_runs_in_one_server_at_a_time_and_acts_once(tmp_path: Path) -> None:
    policies = tmp_path / "retention.toml"
    policies.write_text('interval = "1s"\n\n[[policy]]\ninactive_for = "30d"\n')
    old_ids = [f"old{number}" for number in range(20)]
    with migrated_schema() as (schema, store):
        for session_id in old_ids:
            store.upsert_session(
                AgentSession(session_id=session_id, user_id="u", created_at=OLD, updated_at=OLD)
            )
        store.upsert_session(AgentSession(session_id="new", user_id="u"))
        args = ["--db", f"{PG_URL}?schema={schema}", "--soft-delete", "1s", "--retention", str(policies)]
        # This test takes the maintenance lock first: every server must skip its turns.
        lock = ExitStack()
        try:
            assert lock.enter_context(store.maintenance_lock())
            with servers(args, range(19620, 19623), tmp_path) as running:

                def skipped_by_all() -> bool:
                    return all("another server maintains" in server.output() for server in running)

                wait_until("every server skipped a turn", skipped_by_all)
                live, trash = SessionQuery(limit=100), SessionQuery(limit=100, deleted=True)
                assert len(_ids(store, live)) == 21  # nothing moved while the lock was held
                lock.close()
                wait_until(
                    "the old sessions purged",
                    lambda: _ids(store, live) == ["new"] and not _ids(store, trash),
                    timeout=20,
                )
                # The purging server logs once its transaction is committed: wait for the line.
                wait_until(
                    "the purge logged",
                    lambda: "purged" in "".join(server.output() for server in running),
                )
                time.sleep(1.5)  # a second turn, were one to act twice, would log within 1 s
                logs = [server.output() for server in running]
        finally:
            lock.close()
        changes = store.changes(0, limit=1000).items

    assert _logged_total(logs, r"retention moved to the trash (\d+) sessions") == 20, logs
    assert _logged_total(logs, r"purged (\d+) sessions") == 20, logs
    deleted = sorted(change.session_id for change in changes if change.kind == "session.deleted")
    assert deleted == sorted(old_ids)  # each moved to the trash once, by one server


def test_a_cancel_asked_of_one_server_stops_a_run_executing_in_another(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    with migrated_schema() as (schema, store):
        env = {
            "SESSIONDB_SERVERS_DB_URL": PG_URL,
            "SESSIONDB_SERVERS_DB_SCHEMA": schema,
            "SESSIONDB_SERVERS_GATE": str(gate),
            "PYTHONPATH": str(TESTS_API),
        }
        with servers(["--app", "servers_app:app"], range(19630, 19632), tmp_path, env) as (asked, runner):
            form = {"message": "hi", "session_id": "s1", "stream": "false"}
            with ThreadPoolExecutor(1) as pool:
                ran = pool.submit(httpx.post, f"{runner.base_url}/agents/gated/runs", data=form, timeout=40)

                def running() -> list[str]:
                    try:
                        runs = store.get_runs("s1")
                    except Exception:  # the session is stored with its first run
                        return []
                    return [run.run_id for run in runs if run.status == RunStatus.RUNNING]

                wait_until("the run executing in the runner", lambda: bool(running()))
                [run_id] = running()
                cancelled = httpx.post(f"{asked.base_url}/agents/gated/runs/{run_id}/cancel", timeout=10)
                gate.touch()  # the runner's model answers now; the run checks the store after it
                answer = ran.result(timeout=40)

        assert cancelled.status_code == 200, cancelled.text
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "CANCELLED", (answer.json(), runner.output())
        assert store.get_run(run_id).status == RunStatus.CANCELLED
