"""The console stays light: a page and everything it loads weigh well under 200 KB before data."""

from __future__ import annotations

import re

import httpx

PAGE_BUDGET_BYTES = 200_000
"""The issue's ceiling. Today an empty list page, its stylesheet and its script weigh ~10 KB."""


async def test_the_list_page_and_its_assets_weigh_well_under_the_budget(
    memory_client: httpx.AsyncClient,
) -> None:
    page = await memory_client.get("/ui")
    assets = re.findall(r'(?:href|src)="(/ui/static/[^"]+)"', page.text)
    assert sorted(assets) == ["/ui/static/console.css", "/ui/static/console.js"]
    total = len(page.content)
    for asset in assets:
        response = await memory_client.get(asset)
        assert response.status_code == 200
        total += len(response.content)
    assert total < PAGE_BUDGET_BYTES / 10, total


async def test_nothing_is_loaded_from_another_host(memory_client: httpx.AsyncClient) -> None:
    for path in ("/ui", "/ui/login", "/ui/static/console.css", "/ui/static/console.js"):
        text = (await memory_client.get(path)).text
        assert not re.search(r"(?:src|href)=\"(?:https?:)?//", text), path
        assert "@import" not in text and "url(http" not in text, path
