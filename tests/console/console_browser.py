"""What the console's browser tests share: the server's URL for the browser, the list's rows,
bounded waits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from live_server import LiveServer

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

WAIT_S = 10
"""The longest a browser test waits for what a page should show next."""


def base(server: LiveServer) -> str:
    """The server's URL by host name: the browser fixture resolves ``localhost`` only."""
    return server.base_url.replace("127.0.0.1", "localhost")


def rows(browser: WebDriver) -> list[str]:
    """The names in the session list, top to bottom."""
    from selenium.webdriver.common.by import By

    return [link.text for link in browser.find_elements(By.CSS_SELECTOR, "a.session-link")]


def wait_for(browser: WebDriver, condition: object) -> None:
    """Wait (bounded) until ``condition(browser)`` is truthy, across page loads.

    A click that navigates returns before the next page is there, so every step waits for
    what the person would see next rather than checking at once.
    """
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    ignored = (NoSuchElementException, StaleElementReferenceException)
    WebDriverWait(browser, WAIT_S, ignored_exceptions=ignored).until(condition)  # type: ignore[arg-type]
