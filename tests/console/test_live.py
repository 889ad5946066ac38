"""Live updates: the console's change feed (``/ui/changes``) over a real ``sessiondb serve``, and
pages that update themselves in headless Chromium when another client changes a session."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import jwt
import pytest
from console_browser import WAIT_S, rows, wait_for

from live_server import LiveServer, live_server

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

SECRET = "console-live-secret-of-32-bytes!!"
SCOPES = ["sessions:read", "sessions:write", "sessions:delete", "agents:read", "agents:run"]

APP = textwrap.dedent(
    f"""
    from sessiondb.agent import Agent
    from sessiondb.api import AuthConfig, JwtConfig, create_app
    from sessiondb.db.sqlite import SqliteDb
    from sessiondb.models import TestModel

    db = SqliteDb(db_file="live.db", id="main")
    helper = Agent(id="helper", name="Helper", model=TestModel(), db=db)
    app = create_app(agents=[helper], auth=AuthConfig(jwt=JwtConfig(key={SECRET!r})))
    """
)
"""An app serving one offline agent (so another client can add runs over HTTP), JWT auth on."""


def bearer(sub: str, *, admin: bool = False) -> dict[str, str]:
    """The Authorization header of a JWT for ``sub``."""
    scopes = [*SCOPES, "sessions:admin"] if admin else SCOPES
    claims = {"sub": sub, "scopes": scopes, "exp": int(time.time()) + 6 * 3600}  # made at collection
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """``sessiondb serve --app`` of :data:`APP`, over a SQLite file in ``tmp_path``."""
    (tmp_path / "console_live_app.py").write_text(APP)
    args = ["--app", "console_live_app:app"]
    with live_server(args, cwd=tmp_path, log_path=tmp_path / "serve.log") as running:
        yield running


def test_the_console_feed_tells_a_user_of_its_own_changes_only(server: LiveServer) -> None:
    alice, bob = bearer("alice"), bearer("bob")
    seen: list[str] = []
    with httpx.Client(base_url=server.base_url, timeout=WAIT_S) as client:
        with client.stream("GET", "/ui/changes", headers=alice) as feed:
            assert feed.status_code == 200
            assert feed.headers["content-type"].startswith("text/event-stream")
            # Bob's change first, then alice's: the feed is in order, so had bob's been sent
            # to alice it would come before hers.
            assert client.post("/sessions", json={"session_id": "bob-1"}, headers=bob).status_code == 201
            assert client.post("/sessions", json={"session_id": "alice-1"}, headers=alice).status_code == 201
            deadline = time.monotonic() + WAIT_S
            for line in feed.iter_lines():
                if line.startswith("data:"):
                    seen.append(line)
                if "alice-1" in line or time.monotonic() > deadline:
                    break
    assert any("alice-1" in line for line in seen)
    assert not any("bob-1" in line for line in seen)


def test_the_feed_needs_the_token(server: LiveServer) -> None:
    response = httpx.get(f"{server.base_url}/ui/changes", timeout=WAIT_S)
    assert response.status_code == 303 and response.headers["location"].startswith("/ui/login")


def run_counts(browser: WebDriver) -> dict[str, str]:
    """The Runs column of the list, by session name."""
    from selenium.webdriver.common.by import By

    found = {}
    for row in browser.find_elements(By.CSS_SELECTOR, "table.sessions tbody tr"):
        name = row.find_element(By.CSS_SELECTOR, "a.session-link").text
        found[name] = row.find_element(By.CSS_SELECTOR, "td.runs").text
    return found


ADMIN = bearer("root", admin=True)


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    """Another client of the server: the HTTP API, as an admin."""
    with httpx.Client(base_url=server.base_url, headers=ADMIN, timeout=WAIT_S) as client:
        yield client


def test_open_pages_show_another_clients_changes_without_reloading(
    browser: WebDriver, server: LiveServer, api: httpx.Client
) -> None:
    from selenium.webdriver.common.by import By

    token = ADMIN["Authorization"].removeprefix("Bearer ")
    base = server.base_url.replace("127.0.0.1", "localhost")
    api.post("/sessions", json={"session_id": "first", "session_name": "First chat"}).raise_for_status()

    def add_run(session_id: str, message: str) -> None:
        form = {"message": message, "stream": "false", "session_id": session_id}
        api.post("/agents/helper/runs", data=form).raise_for_status()

    # Log in once through the form; the list shows the one session, without runs.
    browser.get(f"{base}/ui")
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
    wait_for(browser, lambda b: rows(b) == ["First chat"])
    assert run_counts(browser) == {"First chat": "0"}
    # A mark on the page itself: a reload would wipe it.
    browser.execute_script("window.consoleTestMark = 'list page';")
    time.sleep(1)  # the page's EventSource connects

    # Another client creates a session, renames the first and adds a run to it: the list
    # shows each change by itself.
    api.post("/sessions", json={"session_id": "second", "session_name": "Arrived live"}).raise_for_status()
    wait_for(browser, lambda b: rows(b) == ["Arrived live", "First chat"])
    api.post("/sessions/first/rename", json={"session_name": "Renamed elsewhere"}).raise_for_status()
    wait_for(browser, lambda b: "Renamed elsewhere" in rows(b))
    add_run("first", "a question from elsewhere")
    wait_for(browser, lambda b: run_counts(b) == {"Arrived live": "0", "Renamed elsewhere": "1"})
    assert browser.execute_script("return window.consoleTestMark") == "list page"

    # The same on a session's own page: a rename and a new run appear in place.
    browser.find_element(By.LINK_TEXT, "Renamed elsewhere").click()
    wait_for(browser, lambda b: b.find_element(By.ID, "session-name").text == "Renamed elsewhere")
    browser.execute_script("window.consoleTestMark = 'session page';")
    time.sleep(1)
    api.post("/sessions/first/rename", json={"session_name": "Third name"}).raise_for_status()
    wait_for(browser, lambda b: b.find_element(By.ID, "session-name").text == "Third name")
    add_run("first", "the second question")
    wait_for(browser, lambda b: "the second question" in b.find_element(By.ID, "main").text)
    # A change to another session leaves this page alone.
    stamp = browser.find_element(By.ID, "main").get_attribute("data-updated")
    api.post("/sessions/second/rename", json={"session_name": "Not this one"}).raise_for_status()
    time.sleep(1.5)  # longer than the poll and the coalescing delay together
    assert browser.find_element(By.ID, "main").get_attribute("data-updated") == stamp
    assert browser.execute_script("return window.consoleTestMark") == "session page"
