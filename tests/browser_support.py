"""Headless Chromium for tests that need a real browser (the API docs now, a web console later).

Debian's ``chromium`` and ``chromium-driver`` packages, driven by Selenium. Selenium Manager is
never asked to download a driver: the installed ``chromedriver`` is named explicitly. Without
them a browser test is skipped with the reason, except under ``CI=true``, where it fails
(``.ci/run`` installs them).

Use the ``browser`` fixture (registered in ``tests/conftest.py``)::

    def test_page(browser: WebDriver) -> None:
        browser.get(url)
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

CHROMEDRIVER = os.environ.get("SESSIONDB_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
PAGE_TIMEOUT_S = 30


def chromium_binary() -> str | None:
    """The Chromium executable, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_browser() -> str | None:
    """Why a browser test cannot run here, or ``None``."""
    if chromium_binary() is None:
        return "Chromium is not installed (apt-get install chromium chromium-driver)"
    if not os.access(CHROMEDRIVER, os.X_OK):
        return f"chromedriver is not at {CHROMEDRIVER} (apt-get install chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


def require_browser() -> None:
    """Skip the calling test without a browser; fail it instead under ``CI=true``."""
    reason = missing_browser()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run)")
    pytest.skip(reason)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """A headless Chromium that can reach this machine only (no outside host resolves)."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium_binary())
    for argument in (
        "--headless=new",
        "--no-sandbox",  # tests may run as root (containers)
        "--disable-dev-shm-usage",
        "--disable-gpu",
        # Every host name but localhost fails to resolve: a page that needs the internet shows it.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(PAGE_TIMEOUT_S)
    try:
        yield driver
    finally:
        driver.quit()
