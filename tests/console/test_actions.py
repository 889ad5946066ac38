"""The console's form actions over every backend: rename, delete with a confirmation, export."""

from __future__ import annotations

import httpx
import orjson
import pytest

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import SessionNotFound


async def test_rename_posts_the_form_and_shows_the_session(
    client: httpx.AsyncClient, seeded: SessionStore
) -> None:
    response = await client.post("/ui/sessions/s-old/rename", data={"session_name": "Renamed chat"})
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/sessions/s-old"
    assert seeded.get_session("s-old").get_session_name() == "Renamed chat"
    page = await client.get(response.headers["location"])
    assert '<h1 id="session-name">Renamed chat</h1>' in page.text


async def test_rename_refuses_an_empty_or_oversized_name(
    client: httpx.AsyncClient, seeded: SessionStore
) -> None:
    empty = await client.post("/ui/sessions/s-old/rename", data={"session_name": ""})
    assert empty.status_code == 422 and "session_name" in empty.text
    huge = await client.post("/ui/sessions/s-old/rename", data={"session_name": "x" * 5000})
    assert huge.status_code == 422 and "session_name" in huge.text
    assert seeded.get_session("s-old").get_session_name() == "Old chat"


async def test_delete_asks_first_then_deletes(client: httpx.AsyncClient, seeded: SessionStore) -> None:
    confirm = await client.get("/ui/sessions/s-old/delete")
    assert confirm.status_code == 200
    assert "Delete this session?" in confirm.text and "Old chat" in confirm.text
    assert 'action="/ui/sessions/s-old/delete" method="post"' in confirm.text
    seeded.get_session("s-old")  # asking deleted nothing
    done = await client.post("/ui/sessions/s-old/delete")
    assert done.status_code == 303 and done.headers["location"] == "/ui?deleted_id=s-old"
    with pytest.raises(SessionNotFound):
        seeded.get_session("s-old")
    listing = await client.get(done.headers["location"])
    assert "Session <code>s-old</code> was deleted." in listing.text
    assert 'data-session-id="s-old"' not in listing.text


async def test_export_downloads_this_session_in_the_export_format(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui/sessions/s-team/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in response.headers["content-disposition"]
    header, *lines = [orjson.loads(line) for line in response.content.splitlines()]
    assert header["format"] == "sessiondb-export"
    assert [line["session_id"] for line in lines] == ["s-team"]
    assert len(lines[0]["runs"]) == 3
    missing = await client.get("/ui/sessions/nope/export")
    assert missing.status_code == 404


async def test_a_post_from_another_site_is_refused(client: httpx.AsyncClient, seeded: SessionStore) -> None:
    hostile = {"origin": "https://evil.example"}
    rename = await client.post("/ui/sessions/s-old/rename", data={"session_name": "pwned"}, headers=hostile)
    delete = await client.post("/ui/sessions/s-old/delete", headers=hostile)
    assert rename.status_code == 403 and delete.status_code == 403
    assert seeded.get_session("s-old").get_session_name() == "Old chat"
    same_site = await client.post(
        "/ui/sessions/s-old/rename", data={"session_name": "ok"}, headers={"origin": "http://testserver"}
    )
    assert same_site.status_code == 303


async def test_fork_at_a_run_copies_the_history_up_to_it(
    client: httpx.AsyncClient, seeded: SessionStore
) -> None:
    page = (await client.get("/ui/sessions/s-team")).text
    assert '<input type="hidden" name="run_id" value="s-team-t">' in page
    response = await client.post("/ui/sessions/s-team/fork", data={"run_id": "s-team-t"})
    assert response.status_code == 303
    fork_id = response.headers["location"].removeprefix("/ui/sessions/")
    assert fork_id != "s-team"
    fork = seeded.get_session(fork_id)
    assert fork.get_session_name() == "Team trip" and len(fork.runs or []) == 3
    shown = (await client.get(response.headers["location"])).text
    assert 'id="forked-from" href="/ui/sessions/s-team"' in shown and "plan the trip" in shown


async def test_fork_of_the_whole_session_and_at_an_unknown_run(
    client: httpx.AsyncClient, seeded: SessionStore
) -> None:
    whole = await client.post("/ui/sessions/s-old/fork")
    assert whole.status_code == 303
    fork_id = whole.headers["location"].removeprefix("/ui/sessions/")
    assert [run.run_id for run in seeded.get_session(fork_id).runs or []] != ["r-old"]  # fresh run ids
    assert len(seeded.get_session(fork_id).runs or []) == 1
    unknown = await client.post("/ui/sessions/s-old/fork", data={"run_id": "no-such-run"})
    assert unknown.status_code == 404 and "no-such-run" in unknown.text
