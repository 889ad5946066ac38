"""The console where soft delete is on: the delete says it can be undone, the trash lists what
was deleted, Restore brings it back; and one user never sees or restores another's trash."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import jwt
import pytest
from console_browser import base, rows, wait_for
from console_seed import agent_session, chat_run, client_of, seed

from live_server import LiveServer, live_server
from sessiondb.api import create_app
from sessiondb.api.auth import AuthConfig, JwtConfig
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import SessionNotFound
from sessiondb.db.query import SessionQuery
from sessiondb.db.sqlite import SqliteDb
from store_backends import BACKEND_PARAMS, BACKENDS

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

GRACE = timedelta(days=7)
SECRET = "console-trash-secret-of-32-bytes!!"


@pytest.fixture(params=BACKEND_PARAMS)
def trash_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    """The console's seed sessions in a store of each backend whose deletes go to the trash."""
    with BACKENDS[request.param](tmp_path, soft_delete=GRACE) as created:
        seed(created)
        yield created


@pytest.fixture
async def trash_client(trash_store: SessionStore) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app over ``trash_store``, auth off."""
    async for c in client_of(create_app(dbs=[trash_store])):
        yield c


def _in_trash(store: SessionStore) -> list[str]:
    return [s.session_id for s in store.get_sessions(SessionQuery(deleted=True)).items]


async def test_the_confirmation_says_whether_a_delete_can_be_undone(
    trash_client: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    soft = await trash_client.get("/ui/sessions/s-old/delete")
    assert "will go to the trash" in soft.text and "restored from there for 7 days" in soft.text
    hard = await client.get("/ui/sessions/s-old/delete")
    assert "deleted for good: this cannot be undone" in hard.text and "trash" not in hard.text


async def test_delete_moves_to_the_trash_which_lists_it_and_restore_brings_it_back(
    trash_client: httpx.AsyncClient, trash_store: SessionStore
) -> None:
    done = await trash_client.post("/ui/sessions/s-team/delete")
    assert done.status_code == 303 and done.headers["location"] == "/ui?deleted_id=s-team"
    notice = await trash_client.get(done.headers["location"])
    assert "was moved to the trash. It can be restored for 7 days." in notice.text
    assert 'action="/ui/sessions/s-team/restore" method="post"' in notice.text
    assert 'data-session-id="s-team"' not in notice.text
    assert 'id="trash-link" href="/ui?deleted=true"' in notice.text
    assert _in_trash(trash_store) == ["s-team"]

    trash = await trash_client.get("/ui", params={"deleted": "true"})
    assert trash.status_code == 200 and "<h1>Trash</h1>" in trash.text
    assert 'data-session-id="s-team"' in trash.text and 'data-session-id="s-old"' not in trash.text
    # Its runs are counted in the trash too (one team run and its two member runs).
    assert '<td data-label="Runs" class="num runs">3</td>' in trash.text
    assert '<button type="submit" class="restore">Restore</button>' in trash.text

    restored = await trash_client.post("/ui/sessions/s-team/restore")
    assert restored.status_code == 303
    assert restored.headers["location"] == "/ui/sessions/s-team?restored=1"
    page = await trash_client.get(restored.headers["location"])
    assert "Restored from the trash, with all its runs." in page.text
    assert len(trash_store.get_runs("s-team")) == 3
    assert _in_trash(trash_store) == []
    empty = await trash_client.get("/ui", params={"deleted": "true"})
    assert "The trash is empty." in empty.text


async def test_restoring_what_is_not_in_the_trash_is_a_404_page(trash_client: httpx.AsyncClient) -> None:
    live = await trash_client.post("/ui/sessions/s-old/restore")
    missing = await trash_client.post("/ui/sessions/nope/restore")
    for response in (live, missing):
        assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")


async def test_without_soft_delete_there_is_no_trash_link(client: httpx.AsyncClient) -> None:
    page = await client.get("/ui")
    assert "trash-link" not in page.text


def bearer(sub: str) -> dict[str, str]:
    """A user's JWT (read, write, delete: no admin scope)."""
    scopes = ["sessions:read", "sessions:write", "sessions:delete"]
    claims = {"sub": sub, "scopes": scopes, "exp": int(time.time()) + 3600}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


async def test_a_user_neither_sees_nor_restores_another_users_trash(trash_store: SessionStore) -> None:
    # s-mid ("Report draft", bob's) is in the trash; alice tries every console way to see or restore it.
    assert trash_store.delete_session("s-mid")
    alice, bob = bearer("alice"), bearer("bob")
    app = create_app(dbs=[trash_store], auth=AuthConfig(jwt=JwtConfig(key=SECRET)))
    async for c in client_of(app):
        for params in ({"deleted": "true"}, {"deleted": "true", "user": "bob"}):
            listing = await c.get("/ui", params=params, headers=alice)
            assert (
                listing.status_code == 200
                and "s-mid" not in listing.text
                and "Report draft" not in listing.text
            )
        for params in ({}, {"user": "bob"}):
            restore = await c.post("/ui/sessions/s-mid/restore", params=params, headers=alice)
            assert restore.status_code == 404 and "another user" not in restore.text
        assert _in_trash(trash_store) == ["s-mid"]
        with pytest.raises(SessionNotFound):
            trash_store.get_session("s-mid")

        # Not vacuous: bob sees his own trash and restores from it.
        own = await c.get("/ui", params={"deleted": "true"}, headers=bob)
        assert 'data-session-id="s-mid"' in own.text
        assert (await c.post("/ui/sessions/s-mid/restore", headers=bob)).status_code == 303
        assert trash_store.get_session("s-mid").user_id == "bob"


@pytest.fixture
def soft_server(tmp_path: Path) -> Iterator[LiveServer]:
    """``sessiondb serve --soft-delete 7d`` over a SQLite file holding one session with a run."""
    url = f"sqlite:///{tmp_path / 'trash.db'}"
    store = SqliteDb(db_url=url, id="main")
    store.migrate()
    store.create_session(
        agent_session("s-keep", name="Keep me", runs=[chat_run("r-keep", "remember this", "noted")])
    )
    store.close()
    args = ["--db", f"main={url}", "--soft-delete", "7d"]
    with live_server(args, log_path=tmp_path / "serve.log") as running:
        yield running


def test_a_person_deletes_finds_it_in_the_trash_and_restores_it(
    browser: WebDriver, soft_server: LiveServer
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{base(soft_server)}/ui/sessions/s-keep")
    browser.find_element(By.ID, "delete-link").click()
    wait_for(browser, lambda b: "will go to the trash" in b.find_element(By.ID, "main").text)
    assert "restored from there for 7 days" in browser.find_element(By.ID, "main").text
    browser.find_element(By.ID, "confirm-delete").click()
    wait_for(browser, lambda b: "moved to the trash" in b.find_element(By.ID, "deleted-notice").text)
    assert rows(browser) == []

    # The trash lists it, with its run count and a Restore button.
    browser.find_element(By.ID, "trash-link").click()
    wait_for(browser, lambda b: b.find_element(By.TAG_NAME, "h1").text == "Trash")
    row = browser.find_element(By.CSS_SELECTOR, 'tr[data-session-id="s-keep"]')
    assert "Keep me" in row.text and row.find_element(By.CSS_SELECTOR, "td.runs").text == "1"
    row.find_element(By.CSS_SELECTOR, "button.restore").click()

    # Back, with its transcript.
    wait_for(browser, lambda b: b.find_element(By.ID, "session-name").text == "Keep me")
    page = browser.find_element(By.ID, "main").text
    assert "Restored from the trash" in page and "remember this" in page
    browser.find_element(By.LINK_TEXT, "Sessions").click()
    wait_for(browser, lambda b: rows(b) == ["Keep me"])

    # The notice's own Restore button undoes a delete at once.
    browser.get(f"{base(soft_server)}/ui/sessions/s-keep/delete")
    browser.find_element(By.ID, "confirm-delete").click()
    wait_for(browser, lambda b: b.find_element(By.ID, "undo-delete"))
    browser.find_element(By.ID, "undo-delete").click()
    wait_for(browser, lambda b: "Restored from the trash" in b.find_element(By.ID, "main").text)
