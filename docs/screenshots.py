"""Regenerate the console screenshots in docs/ (docs/console-list.png, docs/console-session.png).

    .venv/bin/python docs/screenshots.py

Needs Debian's ``chromium`` and ``chromium-driver`` and the test extra (selenium). It stores a
few demo sessions in a temporary SQLite file, serves the app on a free local port, and takes
both pictures in headless Chromium at 1200x800.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import orjson
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from sessiondb.api import create_app
from sessiondb.db.sqlite import SqliteDb
from sessiondb.run.agent import RunOutput
from sessiondb.run.message import Message
from sessiondb.run.metrics import RunMetrics
from sessiondb.session import AgentSession, SessionSummary

DOCS = Path(__file__).parent
START = 1_765_000_000


def demo_store(path: Path) -> SqliteDb:
    """A store holding a handful of realistic-looking sessions."""
    # With a trash, as `serve --soft-delete 7d`: the list then links to it.
    store = SqliteDb(db_file=path, id="demo", soft_delete=timedelta(days=7))
    store.migrate()
    topics = [
        ("Trip to Lisbon", "travel-agent", "alice"),
        ("Quarterly report draft", "writer", "bob"),
        ("Refund for order 1042", "support", "carol"),
        ("Kubernetes upgrade plan", "ops-helper", "alice"),
        ("Recipe ideas for Sunday", "chef", "dave"),
    ]
    for index, (name, agent, user) in enumerate(topics):
        runs = [
            RunOutput(
                run_id=f"run-{index}-{turn}",
                agent_id=agent,
                status="completed",
                model="gpt-4o-mini",
                created_at=START + index * 600 + turn * 60,
                metrics=RunMetrics(input_tokens=420, output_tokens=180, total_tokens=600, duration=2.4),
                messages=[
                    Message(role="user", content=f"Question {turn + 1} about {name.lower()}?"),
                    Message(
                        role="assistant",
                        tool_calls=[
                            {
                                "id": f"call-{index}-{turn}",
                                "type": "function",
                                "function": {
                                    "name": "search_web",
                                    "arguments": orjson.dumps({"query": name}).decode(),
                                },
                            }
                        ],
                    ),
                    Message(role="tool", tool_call_id=f"call-{index}-{turn}", content="3 results found"),
                    Message(role="assistant", content=f"Here is what I found about {name.lower()}."),
                ],
            )
            for turn in range(2 + index % 3)
        ]
        store.create_session(
            AgentSession(
                session_id=f"demo-{index}",
                agent_id=agent,
                user_id=user,
                session_data={"session_name": name, "session_state": {"step": 3, "notes": ["a", "b"]}},
                metadata={"channel": "web"},
                summary=SessionSummary(summary="Four days in Lisbon in May.") if index == 0 else None,
                created_at=START + index * 600,
                updated_at=START + index * 600 + 180,
                runs=runs,
            )
        )
    return store


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def main() -> None:
    """Serve the demo store and take both screenshots."""
    with tempfile.TemporaryDirectory() as scratch:
        store = demo_store(Path(scratch) / "demo.db")
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(dbs=[store]), port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        arguments = ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,800")
        for argument in arguments:
            options.add_argument(argument)
        driver = webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))
        try:
            driver.get(f"http://localhost:{port}/ui")
            driver.save_screenshot(str(DOCS / "console-list.png"))
            driver.get(f"http://localhost:{port}/ui/sessions/demo-0")
            driver.save_screenshot(str(DOCS / "console-session.png"))
        finally:
            driver.quit()
            server.should_exit = True
            thread.join(timeout=10)
            store.close()


if __name__ == "__main__":
    main()
