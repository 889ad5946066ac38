"""Live updates: the console's change feed over a real ``sessiondb serve``, and a page that
updates itself in headless Chromium when another client changes a session."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import jwt
import pytest
from live_server import LiveServer, live_server

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

SECRET = "console-live-secret-of-32-bytes!!"
SCOPES = ["sessions:read", "sessions:write", "sessions:delete"]
WAIT_S = 10


def bearer(sub: str, *, admin: bool = False) -> dict[str, str]:
    """The Authorization header of a JWT for ``sub``."""
    scopes = [*SCOPES, "sessions:admin"] if admin else SCOPES
    token = jwt.encode({"sub": sub, "scopes": scopes, "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """``sessiondb serve`` over a SQLite file with JWT auth."""
    args = ["--db", f"main={tmp_path / 'live.db'}", "--jwt-secret", SECRET]
    with live_server(args, log_path=tmp_path / "serve.log") as running:
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


def test_an_open_page_shows_another_clients_change_without_reloading(browser: WebDriver, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    admin = bearer("root", admin=True)
    token = admin["Authorization"].removeprefix("Bearer ")
    base = server.base_url.replace("127.0.0.1", "localhost")
    api = httpx.Client(base_url=server.base_url, headers=admin, timeout=WAIT_S)
    api.post("/sessions", json={"session_id": "first", "session_name": "First chat"}).raise_for_status()

    # Log in once through the form.
    browser.get(f"{base}/ui")
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(lambda b: b.find_elements(By.LINK_TEXT, "First chat"))
    # A mark on the page itself: a reload would wipe it.
    browser.execute_script("window.consoleTestMark = 'still here';")
    time.sleep(0.5)  # the page's EventSource connects

    # Another client adds a session and renames the first: the list shows both, by itself.
    api.post("/sessions", json={"session_id": "second", "session_name": "Arrived live"}).raise_for_status()
    WebDriverWait(browser, WAIT_S).until(lambda b: b.find_elements(By.LINK_TEXT, "Arrived live"))
    api.post("/sessions/first/rename", json={"session_name": "Renamed elsewhere"}).raise_for_status()
    WebDriverWait(browser, WAIT_S).until(lambda b: b.find_elements(By.LINK_TEXT, "Renamed elsewhere"))
    assert browser.execute_script("return window.consoleTestMark") == "still here"

    # The same on a session's own page.
    browser.find_element(By.LINK_TEXT, "Renamed elsewhere").click()
    WebDriverWait(browser, WAIT_S).until(
        lambda b: b.find_element(By.ID, "session-name").text == "Renamed elsewhere"
    )
    browser.execute_script("window.consoleTestMark = 'session page';")
    time.sleep(0.5)
    api.post("/sessions/first/rename", json={"session_name": "Third name"}).raise_for_status()
    WebDriverWait(browser, WAIT_S).until(lambda b: b.find_element(By.ID, "session-name").text == "Third name")
    assert browser.execute_script("return window.consoleTestMark") == "session page"
    api.close()
