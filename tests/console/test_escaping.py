"""Nothing a user typed is ever rendered as HTML: names, ids, messages, tool calls, state, metadata."""

from __future__ import annotations

from console_seed import HOSTILE, agent_session, client_of

from sessiondb.api import create_app
from sessiondb.db.base import SessionStore
from sessiondb.run.agent import RunOutput
from sessiondb.run.message import Message

ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"


def hostile_session() -> object:
    session = agent_session("s-hostile", name=HOSTILE, user_id=HOSTILE, agent_id=HOSTILE)
    session.session_data = {"session_name": HOSTILE, "session_state": {HOSTILE: [HOSTILE]}}
    session.metadata = {HOSTILE: HOSTILE}
    session.runs = [
        RunOutput(
            run_id="r-hostile",
            agent_id=HOSTILE,
            status="completed",
            model=HOSTILE,
            messages=[
                Message(role="user", content=HOSTILE),
                Message(
                    role="assistant",
                    tool_calls=[{"id": "c", "function": {"name": HOSTILE, "arguments": HOSTILE}}],
                ),
                Message(role="tool", tool_call_id="c", content=HOSTILE),
                Message(role=HOSTILE, content=HOSTILE),
            ],
        )
    ]
    return session


async def test_script_tags_typed_anywhere_render_as_text(store: SessionStore) -> None:
    store.create_session(hostile_session())  # type: ignore[arg-type]
    async for client in client_of(create_app(dbs=[store])):
        pages = {
            "list": await client.get("/ui"),
            "filtered": await client.get("/ui", params={"name": HOSTILE, "component": HOSTILE}),
            "session": await client.get("/ui/sessions/s-hostile"),
            "confirm": await client.get("/ui/sessions/s-hostile/delete"),
            "missing": await client.get(f"/ui/sessions/{HOSTILE.replace('/', '')}"),
            "login": await client.get("/ui/login", params={"next": f"/ui/{HOSTILE}"}),
            "search box": await client.get("/ui", params={"q": HOSTILE}),
        }
    for page, response in pages.items():
        assert "<script>alert" not in response.text, page
    session = pages["session"].text
    # Each place it was typed shows it, escaped: name, user, agent, model, messages, tool, state, metadata.
    assert session.count(ESCAPED) >= 9
    assert ESCAPED in pages["list"].text
    assert ESCAPED in pages["confirm"].text
