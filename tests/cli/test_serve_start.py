"""Issue 16 §3-4: ``sessiondb serve`` says what it serves, refuses what it cannot serve in one
line, waits for a PostgreSQL server that is down, and stops quietly on Ctrl-C."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from cli_support import SESSIONDB, assert_one_line_error, run_cli
from tcp_proxy import TcpProxy

from live_server import free_port, live_server
from sessiondb.db import SqliteDb
from sessiondb.db._sql.migrate import head_revision
from sessiondb.session import AgentSession
from store_backends import PG_URL, postgres_schema


def test_the_banner_names_the_database_its_tables_auth_and_urls(tmp_path: Path) -> None:
    path = tmp_path / "seeded.db"
    store = SqliteDb(db_file=path, session_table="sessions")
    store.upsert_session(AgentSession(session_id="s1", agent_id="a"))
    store.close()

    with live_server(["--db", str(path)], log_path=tmp_path / "log") as server:
        found = httpx.get(f"{server.base_url}/sessions", params={"db_id": "sqlite", "table": "sessions"})
        default = httpx.get(f"{server.base_url}/sessions")
        unknown = httpx.get(f"{server.base_url}/sessions", params={"db_id": "sqlite", "table": "nope"})
        console = httpx.get(f"{server.base_url}/ui")
        output = server.output()

    assert [item["session_id"] for item in found.json()["data"]] == ["s1"]
    assert [item["session_id"] for item in default.json()["data"]] == ["s1"]
    assert unknown.status_code == 404 and "sessions" in unknown.json()["detail"]
    assert "sessiondb 0.1.0" in output
    assert f"sqlite: {path}" in output and f"sessions (revision {head_revision()})" in output
    assert "auth      off (only this machine can connect)" in output
    assert f"API       {server.base_url}" in output and f"{server.base_url}/docs" in output
    # The console's URL is printed, and it answers (the first session table of the file).
    assert f"console   {server.base_url}/ui" in output
    assert console.status_code == 200 and 'data-session-id="s1"' in console.text


def test_a_new_file_is_created_and_said_so_with_one_line_for_its_migration(tmp_path: Path) -> None:
    path = tmp_path / "new" / "fresh.db"

    with live_server(["--db", str(path)], log_path=tmp_path / "log") as server:
        output = server.output()

    assert path.exists()
    assert f"{path} (new file)" in output
    assert output.count("migrated table sessiondb_sessions") == 1
    assert "alembic" not in output


def test_serve_refuses_a_file_that_is_not_a_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "notadb.txt"
    path.write_text("hello\n")

    result = run_cli("serve", "--db", str(path), "--port", str(free_port()))

    assert "is not a SQLite database" in assert_one_line_error(result)
    assert path.read_text() == "hello\n"


def test_serve_on_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_cli("serve", "--db", str(tmp_path / "x.db"), "--port", str(port))

    assert f"cannot listen on 127.0.0.1:{port}" in assert_one_line_error(result)
    assert not (tmp_path / "x.db").exists()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    path = tmp_path / "notadb.txt"
    path.write_text("hello\n")

    result = run_cli("--debug", "sessions", "list", "--db", str(path))

    assert result.returncode == 1
    assert "Traceback" in result.stderr and "CannotOpen" in result.stderr


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes], timeout: float = 150) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _answers(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
    except httpx.TransportError:
        return False
    return True


@pytest.mark.slow
def test_ctrl_c_stops_serve_quietly_ten_times_out_of_ten(tmp_path: Path) -> None:
    # Ten servers at once: five interrupted as soon as they print their banner (uvicorn is
    # starting), five once they serve. (Before the interpreter runs any of sessiondb's code,
    # Ctrl-C is Python's own business.)
    path = tmp_path / "db.sqlite"
    SqliteDb(db_file=path).migrate()
    servers = []
    for attempt in range(10):
        port = free_port()
        log_path = tmp_path / f"serve-{attempt}.log"
        with log_path.open("wb") as log:
            command = [SESSIONDB, "serve", "--db", str(path), "--port", str(port)]
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        servers.append((process, port, log_path, attempt))
    reached = 0
    for process, port, log_path, attempt in servers:
        if attempt < 5:
            reached += _wait_for(lambda log_path=log_path: "Press Ctrl-C" in log_path.read_text(), process)
        else:
            reached += _wait_for(lambda port=port: _answers(port), process)
        process.send_signal(signal.SIGINT)
    results = []
    for process, _, log_path, _ in servers:
        process.wait(timeout=30)
        results.append((process.returncode, log_path.read_text()))

    assert reached == 10, results
    assert [code for code, _ in results] == [130] * 10, results
    assert [output for _, output in results if "Traceback" in output or "Error" in output] == []


@pytest.mark.postgres
def test_postgres_down_at_start_is_one_line_then_503_until_it_answers(tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    target = make_url(PG_URL)
    proxy = TcpProxy((target.host or "127.0.0.1", target.port or 5432))  # not listening yet
    with postgres_schema("down") as schema:
        url = target.set(port=proxy.port).render_as_string(hide_password=False) + f"?schema={schema}"
        with live_server(["--db", url], log_path=tmp_path / "log") as server:
            while_down = httpx.get(f"{server.base_url}/sessions")
            health_down = httpx.get(f"{server.base_url}/health")
            proxy.start()
            deadline = time.monotonic() + 30
            status = 0
            while time.monotonic() < deadline and status != 200:
                status = httpx.get(f"{server.base_url}/sessions").status_code
                time.sleep(0.2)
            # The retry loop (every 2 s) reports the database once it has found its tables.
            _wait_for(lambda: "answers now" in server.output(), server.process, timeout=15)
            output = server.output()
        proxy.cut()

    assert while_down.status_code == 503 and health_down.status_code == 503
    assert status == 200
    down_lines = [line for line in output.splitlines() if "does not answer" in line]
    assert len(down_lines) == 1, output
    assert "Traceback" not in output
    assert "answers now" in output
