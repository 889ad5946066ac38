"""The console's pages, over every backend: the list, one session, the delete confirmation."""

from __future__ import annotations

import re
from collections.abc import Sequence

import httpx
import pytest
from console_seed import agent_session, chat_run, client_of

from sessiondb.api import create_app
from sessiondb.db.base import SessionStore
from sessiondb.db.memory import InMemoryDb
from sessiondb.db.query import Page, SessionQuery
from sessiondb.session import Session


def listed_ids(html: str) -> list[str]:
    """The session ids of the list's rows, top to bottom."""
    return re.findall(r'<tr data-session-id="([^"]+)"', html)


async def test_root_redirects_to_the_console(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/ui"


async def test_list_shows_sessions_newest_first_with_their_facts(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert listed_ids(response.text) == ["s-team", "s-new", "s-mid", "s-old"]
    row = response.text.split('data-session-id="s-team"')[1].split("</tr>")[0]
    assert "Team trip" in row and ">team<" in row and ">crew<" in row and ">alice<" in row
    assert "2023-11-14 22:21:40 UTC" in row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=team", ["s-team"]),
        ("component=writer", ["s-new"]),
        ("user=bob", ["s-mid"]),
        ("name=report", ["s-mid"]),
        ("type=agent&user=alice", ["s-new", "s-old"]),
    ],
)
async def test_list_filters(client: httpx.AsyncClient, query: str, expected: list[str]) -> None:
    response = await client.get(f"/ui?{query}")
    assert response.status_code == 200
    assert listed_ids(response.text) == expected


async def test_list_pages_with_the_stores_cursor(client: httpx.AsyncClient) -> None:
    first = await client.get("/ui?limit=3")
    assert listed_ids(first.text) == ["s-team", "s-new", "s-mid"]
    older = re.search(r'id="next-page" href="([^"]+)"', first.text)
    assert older is not None
    second = await client.get(older.group(1).replace("&amp;", "&"))
    assert listed_ids(second.text) == ["s-old"]
    assert 'id="next-page"' not in second.text
    assert "Newest" in second.text


async def test_a_bad_filter_is_a_page_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui?type=robot")
    assert response.status_code == 422
    assert "session_type" in response.text and "text/html" in response.headers["content-type"]
    cursor = await client.get("/ui?cursor=not-a-cursor")
    assert cursor.status_code == 422 and "cursor" in cursor.text
    too_many = await client.get("/ui?limit=100000")
    assert too_many.status_code == 422 and "limit" in too_many.text


async def test_session_page_shows_the_transcript_with_tool_calls_folded(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui/sessions/s-old")
    assert response.status_code == 200
    html = response.text
    assert '<h1 id="session-name">Old chat</h1>' in html
    run = html.split('id="run-r-old"')[1].split("</article>")[0]
    assert run.index("hello") < run.index("lookup") < run.index("sunny, 21 C") < run.index("hi there")
    # The call and its result sit in one folded <details>.
    folded = run.split('<details class="tool">')[1].split("</details>")[0]
    assert "lookup" in folded and "&#34;q&#34;: &#34;weather&#34;" in folded and "sunny, 21 C" in folded
    assert "42 tokens" in run and "1.25 s" in run and "completed" in run and "gpt-test" in run


async def test_member_runs_sit_under_their_team_run(client: httpx.AsyncClient) -> None:
    html = (await client.get("/ui/sessions/s-team")).text
    team = html.split('id="run-s-team-t"')[1]
    members = team.split('<details class="members" open>')[1]
    assert 'id="run-s-team-m1"' in members and 'id="run-s-team-m2"' in members
    assert "Member 1" in members and "done 2" in members
    # Members are not listed a second time at the top level.
    assert html.count('id="run-s-team-m1"') == 1


async def test_session_page_shows_state_metadata_and_summary(store: SessionStore) -> None:
    session = agent_session("s-state")
    session.session_data = {"session_state": {"cart": ["apple", {"qty": 2}], "paid": False}}
    session.metadata = {"source": "web"}
    store.create_session(session)
    from sessiondb.session import SessionSummary

    store.update_session("s-state", summary=SessionSummary(summary="They bought apples.", topics=["fruit"]))
    async for client in client_of(create_app(dbs=[store])):
        html = (await client.get("/ui/sessions/s-state")).text
    state = html.split('id="state-h"')[1].split("</section>")[0]
    assert '<span class="key">cart</span>' in state and '"apple"' in state
    assert '<span class="json-num">2</span>' in state and '<span class="json-bool">false</span>' in state
    meta = html.split('id="meta-h"')[1].split("</section>")[0]
    assert '<span class="key">source</span>' in meta and '"web"' in meta
    assert "They bought apples." in html and "Topics: fruit" in html


async def test_a_long_session_loads_its_newest_runs_and_links_to_older(store: SessionStore) -> None:
    runs = [
        chat_run(f"r{index:03}", f"question {index}", f"answer {index}", created_at=1_700_000_000 + index)
        for index in range(45)
    ]
    store.create_session(agent_session("s-long", runs=runs))
    async for client in client_of(create_app(dbs=[store])):
        first = (await client.get("/ui/sessions/s-long")).text
        shown = re.findall(r'<article class="run" id="run-(r\d+)"', first)
        assert shown == [f"r{index:03}" for index in range(44, 24, -1)]
        older = re.search(r'id="older-runs" href="([^"#]+)', first)
        assert older is not None and "runs=40" in older.group(1)
        wider = (await client.get(older.group(1).replace("&amp;", "&"))).text
        assert len(re.findall(r'<article class="run" id="run-', wider)) == 40
        everything = (await client.get("/ui/sessions/s-long?runs=60")).text
        assert len(re.findall(r'<article class="run" id="run-', everything)) == 45
        assert 'id="older-runs"' not in everything


async def test_a_missing_session_is_a_404_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui/sessions/nope")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "nope" in response.text and "not found" in response.text


async def test_several_databases_get_a_selector_and_links_keep_db_id() -> None:
    one, two = InMemoryDb(id="one"), InMemoryDb(id="two")
    one.create_session(agent_session("in-one", name="First db"))
    two.create_session(agent_session("in-two", name="Second db"))
    async for client in client_of(create_app(dbs=[one, two])):
        default = (await client.get("/ui")).text
        assert listed_ids(default) == ["in-one"]
        assert 'id="db-select"' in default and '<option value="two" >two</option>' in default
        second = (await client.get("/ui?db_id=two")).text
        assert listed_ids(second) == ["in-two"]
        assert 'href="/ui/sessions/in-two?db_id=two"' in second
        page = await client.get("/ui/sessions/in-two?db_id=two")
        assert page.status_code == 200 and "Second db" in page.text
        assert (await client.get("/ui/sessions/in-two?db_id=one")).status_code == 404
        assert (await client.get("/ui?db_id=three")).status_code == 404


async def test_pages_forbid_framing_and_inline_scripts(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "<script>" not in response.text  # only the external, same-origin script


async def test_the_list_pages_by_cursor_without_counting_every_session() -> None:
    asked: list[SessionQuery] = []

    class Recording(InMemoryDb):
        def get_sessions(self, query: SessionQuery) -> Page[Session]:
            asked.append(query)
            return super().get_sessions(query)

    store = Recording(id="main")
    store.create_session(agent_session("only"))
    async for client in client_of(create_app(dbs=[store])):
        assert (await client.get("/ui?user=alice")).status_code == 200
    assert [(query.count_total, query.user_id, query.limit) for query in asked] == [(False, "alice", 25)]


def listed_runs(html: str) -> dict[str, str]:
    """The Runs column of the list, by session id."""
    return dict(re.findall(r'<tr data-session-id="([^"]+)">.*?class="num runs">(\d+)</td>', html, re.S))


async def test_the_list_shows_each_sessions_run_count(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui")
    assert '<th scope="col" class="num">Runs</th>' in response.text
    # s-team: one team run and its two member runs; s-old: one run; the others none.
    assert listed_runs(response.text) == {"s-team": "3", "s-new": "0", "s-mid": "0", "s-old": "1"}


async def test_the_run_counts_are_one_read_of_the_page_shown_only() -> None:
    asked: list[list[str]] = []

    class Recording(InMemoryDb):
        def run_counts(
            self, session_ids: Sequence[str], *, user_id: str | None = None, deleted: bool = False
        ) -> dict[str, int]:
            asked.append(list(session_ids))
            return super().run_counts(session_ids, user_id=user_id, deleted=deleted)

    store = Recording(id="main")
    for index in range(5):
        store.create_session(agent_session(f"s{index}", created_at=1_700_000_000 + index))
    async for client in client_of(create_app(dbs=[store])):
        assert (await client.get("/ui?limit=2")).status_code == 200
    assert asked == [["s4", "s3"]]


async def test_a_link_to_one_run_shows_it_first_even_when_it_is_old(store: SessionStore) -> None:
    runs = [chat_run(f"r{index:03}", f"question {index}", f"answer {index}") for index in range(30)]
    store.create_session(agent_session("s-deep", runs=runs))
    store.create_session(agent_session("s-other", runs=[chat_run("other-run", "secret words", "elsewhere")]))
    async for client in client_of(create_app(dbs=[store])):
        html = (await client.get("/ui/sessions/s-deep?run=r002")).text
        missing = await client.get("/ui/sessions/s-deep?run=not-a-run")
        elsewhere = await client.get("/ui/sessions/s-deep?run=other-run")
    focus = html.split('id="focus-h"')[1].split("</section>")[0]
    assert 'id="focus-run-r002"' in focus and "question 2" in focus
    assert 'id="run-r002"' not in html  # outside the newest 20
    assert missing.status_code == 404 and "not-a-run" in missing.text
    assert elsewhere.status_code == 404 and "secret words" not in elsewhere.text


@pytest.mark.parametrize(
    "path",
    [
        "/ui?name=%00",
        "/ui?component=a%00b",
        "/ui?type=%00",
        "/ui?cursor=" + "A" * 5000,
        "/ui?limit=-1",
        "/ui?limit=1e9",
        "/ui/sessions/%2E%2E",
        "/ui/sessions/a%2Fb",
        "/ui/sessions/%E2%80%AEevil",
        "/ui/sessions/s-old?runs=0",
        "/ui/sessions/s-old?runs=99999999999999999999",
        "/ui/sessions/s-old?run=%00",
        "/ui/search?q=%00",
        "/ui/search?q=%22%22%22*%20AND%20(",
        "/ui/search?q=a&cursor=%00",
    ],
)
async def test_hostile_input_is_a_4xx_page_never_a_5xx(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert 400 <= response.status_code < 500 or response.status_code == 200, response.text
    assert "text/html" in response.headers["content-type"]
