"""The console's search page over every backend: hits, marks, links to the run, paging, isolation."""

from __future__ import annotations

import re

import httpx
import jwt
from console_seed import HOSTILE, agent_session, chat_run, client_of

from sessiondb.api import create_app
from sessiondb.api.auth import AuthConfig, JwtConfig
from sessiondb.console.auth import COOKIE
from sessiondb.console.search import snippet_parts
from sessiondb.db.base import SessionStore

SECRET = "console-search-secret-of-32-bytes!"


async def test_hits_link_to_their_run_with_the_words_marked(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui/search", params={"q": "hello"})
    assert response.status_code == 200
    hit = response.text.split('<li class="hit">')[1].split("</li>")[0]
    assert 'href="/ui/sessions/s-old?run=r-old"' in hit and "Old chat" in hit
    assert "<mark>hello</mark>" in hit
    opened = await client.get("/ui/sessions/s-old?run=r-old")
    assert 'id="focus-run-r-old"' in opened.text


async def test_no_hit_and_an_empty_query(client: httpx.AsyncClient) -> None:
    nothing = await client.get("/ui/search", params={"q": "zeppelin"})
    assert nothing.status_code == 200 and "Nothing matches “zeppelin”." in nothing.text
    form = await client.get("/ui/search")
    assert form.status_code == 200 and 'id="search-q"' in form.text and "Nothing matches" not in form.text


async def test_a_query_the_store_refuses_is_a_page_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui/search", params={"q": "x" * 1500})
    assert response.status_code == 422 and "q" in response.text


async def test_results_page_by_cursor(store: SessionStore) -> None:
    for index in range(5):
        store.create_session(
            agent_session(f"s{index}", runs=[chat_run(f"r{index}", "lighthouse keeper", "ok")])
        )
    async for client in client_of(create_app(dbs=[store])):
        first = await client.get("/ui/search", params={"q": "lighthouse", "limit": 3})
        seen = re.findall(r'run=(r\d)"', first.text)
        more = re.search(r'id="next-hits" href="([^"]+)"', first.text)
        assert len(seen) == 3 and more is not None
        second = await client.get(more.group(1).replace("&amp;", "&"))
        seen += re.findall(r'run=(r\d)"', second.text)
    assert sorted(seen) == ["r0", "r1", "r2", "r3", "r4"]


async def test_a_user_finds_only_its_own_sessions(store: SessionStore) -> None:
    store.create_session(agent_session("mine", user_id="alice", runs=[chat_run("ra", "walrus plans", "ok")]))
    store.create_session(
        agent_session("theirs", user_id="bob", runs=[chat_run("rb", "walrus secrets", "ok")])
    )
    app = create_app(dbs=[store], auth=AuthConfig(jwt=JwtConfig(key=SECRET)))
    token = jwt.encode({"sub": "alice", "scopes": ["sessions:read"]}, SECRET, algorithm="HS256")
    async for client in client_of(app):
        client.cookies.set(COOKIE, token, path="/ui")
        response = await client.get("/ui/search", params={"q": "walrus", "user": "bob"})
    assert "run=ra" in response.text and "run=rb" not in response.text and "secrets" not in response.text


async def test_a_hostile_message_is_escaped_in_the_snippet(store: SessionStore) -> None:
    store.create_session(agent_session("h", runs=[chat_run("rh", f"alert me {HOSTILE}", "ok")]))
    async for client in client_of(create_app(dbs=[store])):
        response = await client.get("/ui/search", params={"q": "alert"})
    assert "<mark>" in response.text and "<script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_snippet_parts_unescape_the_store_html_into_plain_pieces() -> None:
    assert snippet_parts("a &lt;b&gt; <mark>word</mark> &amp; c") == [
        ("a <b> ", False),
        ("word", True),
        (" & c", False),
    ]
