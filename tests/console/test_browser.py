"""The console in a real headless Chromium, against a real ``sessiondb serve``.

Each step does what a person would (click, type, submit) and checks what they would see.
The ``browser`` fixture is :mod:`browser_support`'s (Debian's chromium and chromium-driver).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from console_browser import base, rows, wait_for
from console_seed import agent_session, chat_run, team_session

from live_server import LiveServer, live_server
from sessiondb.db.sqlite import SqliteDb

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """``sessiondb serve`` over a SQLite file holding a few sessions."""
    url = f"sqlite:///{tmp_path / 'console.db'}"
    store = SqliteDb(db_url=url, id="main")
    store.migrate()
    store.create_session(
        agent_session("s-old", name="Old chat", runs=[chat_run("r-old", "hello", "hi there")])
    )
    store.create_session(
        agent_session("s-new", name="Newest chat", agent_id="writer", created_at=1_700_000_200)
    )
    store.create_session(team_session("s-team"))
    store.close()
    with live_server(["--db", f"main={url}"], log_path=tmp_path / "serve.log") as running:
        yield running


def test_list_search_filter_open_rename_fork_delete(browser: WebDriver, server: LiveServer) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    # The list, newest first.
    browser.get(f"{base(server)}/")
    assert browser.current_url == f"{base(server)}/ui"
    assert rows(browser) == ["Team trip", "Newest chat", "Old chat"]

    # j and k move through the sessions from the keyboard; Enter opens the one focused.
    keyboard = ActionChains(browser)  # keys go to whatever has the focus, as a person's would
    keyboard.send_keys("j").send_keys("j").perform()
    assert browser.switch_to.active_element.text == "Newest chat"
    ActionChains(browser).send_keys("k").perform()
    assert browser.switch_to.active_element.text == "Team trip"
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait_for(browser, lambda b: b.find_element(By.ID, "session-name").text == "Team trip")
    browser.back()
    wait_for(browser, lambda b: rows(b) == ["Team trip", "Newest chat", "Old chat"])

    # Search from the box at the top: the hit shows the word marked and opens at its run.
    box = browser.find_element(By.ID, "q")
    box.send_keys("hello", Keys.ENTER)
    wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, "li.hit mark").text.lower() == "hello")
    browser.find_element(By.CSS_SELECTOR, "a.hit-link").click()
    wait_for(browser, lambda b: "hi there" in b.find_element(By.ID, "focus-run-r-old").text)
    assert browser.find_element(By.ID, "session-name").text == "Old chat"
    browser.get(f"{base(server)}/ui")

    # Filter by type: only the team session is left.
    Select(browser.find_element(By.ID, "filter-type")).select_by_value("team")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait_for(browser, lambda b: "type=team" in b.current_url and rows(b) == ["Team trip"])

    # Open it: the team run, and its member runs under it.
    browser.find_element(By.LINK_TEXT, "Team trip").click()
    wait_for(browser, lambda b: b.find_element(By.ID, "session-name").text == "Team trip")
    team_run = browser.find_element(By.ID, "run-s-team-t")
    assert "plan the trip" in team_run.text
    members = team_run.find_element(By.CSS_SELECTOR, "details.members")
    assert "2 member runs" in members.text and "done 1" in members.text

    # Rename it.
    name = browser.find_element(By.ID, "rename-input")
    name.clear()
    name.send_keys("Trip to Lisbon")
    browser.find_element(By.ID, "rename-button").click()
    wait_for(browser, lambda b: b.find_element(By.ID, "session-name").text == "Trip to Lisbon")

    # Fork it: the fork opens and says where it came from.
    browser.find_element(By.ID, "fork-button").click()
    wait_for(browser, lambda b: b.find_element(By.ID, "forked-from").text == "s-team")
    assert browser.find_element(By.ID, "session-name").text == "Trip to Lisbon"
    fork_url = browser.current_url

    # Delete the fork, confirming first.
    browser.find_element(By.ID, "delete-link").click()
    wait_for(browser, lambda b: "Delete this session?" in b.find_element(By.TAG_NAME, "h1").text)
    browser.find_element(By.ID, "confirm-delete").click()
    wait_for(browser, lambda b: "was deleted" in b.find_element(By.CSS_SELECTOR, "p.notice").text)
    assert rows(browser) == ["Trip to Lisbon", "Newest chat", "Old chat"]
    fork_api_url = fork_url.replace("/ui/", "/").replace("localhost", "127.0.0.1")
    assert httpx.get(fork_api_url, timeout=5).status_code == 404


def test_a_session_page_reads_well_on_a_phone(browser: WebDriver, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    browser.set_window_size(390, 844)
    browser.get(f"{base(server)}/ui/sessions/s-old")
    # Nothing is wider than the screen: long text wraps rather than scrolling the page sideways.
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390
    tool = browser.find_element(By.CSS_SELECTOR, "details.tool")
    assert "sunny" not in tool.text  # folded until opened
    tool.find_element(By.TAG_NAME, "summary").click()
    assert "sunny, 21 C" in tool.text
