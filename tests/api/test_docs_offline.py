"""Issue 16 §5: ``/docs`` and ``/redoc`` work without internet: their assets are served locally."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from live_server import live_server
from sessiondb.api import create_app
from sessiondb.db import InMemoryDb

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

_URL = re.compile(r"""(?:https?:)?//([^/"'\s)]+)""")


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(InMemoryDb())), base_url="http://t")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_pages_name_no_outside_host(page: str) -> None:
    async with _client() as client:
        html = (await client.get(page)).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        fetched = [await client.get(asset) for asset in assets]

    assert _URL.findall(html) == []
    assert assets, html
    assert [response.status_code for response in fetched] == [200] * len(assets)
    assert all(len(response.content) > 1000 for response in fetched)


def test_swagger_ui_renders_the_operations_in_a_browser_offline(browser: WebDriver, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    with live_server(["--db", "memory"], log_path=tmp_path / "log") as server:
        browser.get(f"{server.base_url.replace('127.0.0.1', 'localhost')}/docs")
        WebDriverWait(browser, 30).until(
            expected_conditions.presence_of_element_located((By.ID, "operations-Health-health_check"))
        )
        text = browser.find_element(By.TAG_NAME, "body").text

    assert "/sessions" in text
