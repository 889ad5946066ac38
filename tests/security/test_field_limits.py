"""Request and field size limits: 413 for a body too large, 422 naming the field for the rest.

Every limit is configurable, in ``create_app`` and in ``sessiondb serve``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import asgi_client
from typer.testing import CliRunner

from sessiondb.api import create_app
from sessiondb.api.field_limits import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_ID_CHARS,
    DEFAULT_MAX_NAME_CHARS,
    FieldLimits,
    field_limit_errors,
)
from sessiondb.cli import app as cli
from sessiondb.db.memory import InMemoryDb
from sessiondb.db.query import SessionQuery


def nested(depth: int) -> Any:
    """A JSON value whose objects nest ``depth`` levels deep (``{"k": {...}}``)."""
    value: Any = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


@pytest.fixture
def db() -> InMemoryDb:
    return InMemoryDb(id="main")


@pytest.fixture
async def client(db: InMemoryDb) -> AsyncIterator[httpx.AsyncClient]:
    async for c in asgi_client(create_app(dbs=[db])):
        yield c


@pytest.fixture
async def tight(db: InMemoryDb) -> AsyncIterator[httpx.AsyncClient]:
    limits = FieldLimits(max_name_chars=10, max_id_chars=8, max_depth=3)
    async for c in asgi_client(create_app(dbs=[db], field_limits=limits, max_body_bytes=2_000)):
        yield c


def _only_error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert len(errors) == 1, errors
    error: dict[str, Any] = errors[0]
    return error


# -- defaults ----------------------------------------------------------------------------------


async def test_a_name_over_the_default_is_422_and_nothing_is_stored(
    db: InMemoryDb, client: httpx.AsyncClient
) -> None:
    too_long = "n" * (DEFAULT_MAX_NAME_CHARS + 1)

    created = await client.post("/sessions", json={"session_id": "s", "session_name": too_long})
    fits = await client.post("/sessions", json={"session_id": "s", "session_name": too_long[:-1]})
    renamed = await client.post("/sessions/s/rename", json={"session_name": too_long})
    patched = await client.patch("/sessions/s", json={"session_name": too_long})

    error = _only_error(created)
    assert error["loc"] == ["body", "session_name"]
    assert error["type"] == "string_too_long"
    assert error["ctx"] == {"max_length": DEFAULT_MAX_NAME_CHARS}
    assert error["input"] is None  # a huge value is not echoed back
    assert fits.status_code == 201
    assert _only_error(renamed)["loc"] == _only_error(patched)["loc"] == ["body", "session_name"]
    assert db.get_session("s").get_session_name() == too_long[:-1]


@pytest.mark.parametrize("field", ["session_id", "user_id", "agent_id", "team_id", "workflow_id"])
async def test_an_id_over_the_default_is_422(client: httpx.AsyncClient, field: str) -> None:
    response = await client.post("/sessions", json={field: "i" * (DEFAULT_MAX_ID_CHARS + 1)})

    assert _only_error(response)["loc"] == ["body", field]


async def test_bulk_delete_ids_are_capped_one_by_one(client: httpx.AsyncClient) -> None:
    body = {"session_ids": ["ok", "i" * (DEFAULT_MAX_ID_CHARS + 1)], "session_types": ["agent", "agent"]}

    response = await client.request("DELETE", "/sessions", json=body)

    assert _only_error(response)["loc"] == ["body", "session_ids", 1]


async def test_state_nested_past_the_default_depth_is_422_naming_where(
    db: InMemoryDb, client: httpx.AsyncClient
) -> None:
    await client.post("/sessions", json={"session_id": "s"})

    # The body's own object is level 1, so the state may nest one level less than the limit.
    deepest_allowed = await client.patch("/sessions/s", json={"session_state": nested(DEFAULT_MAX_DEPTH - 1)})
    too_deep = await client.patch("/sessions/s", json={"session_state": nested(DEFAULT_MAX_DEPTH)})

    assert deepest_allowed.status_code == 200, deepest_allowed.text
    error = _only_error(too_deep)
    assert error["type"] == "too_deeply_nested"
    assert error["loc"] == ["body", "session_state", *["k"] * (DEFAULT_MAX_DEPTH - 1)]
    assert db.get_session("s").session_data == {"session_state": nested(DEFAULT_MAX_DEPTH - 1)}


@pytest.mark.parametrize("depth", [300, 5_000])
async def test_state_nested_past_what_json_can_encode_is_a_4xx_not_a_500(
    client: httpx.AsyncClient, depth: int
) -> None:
    await client.post("/sessions", json={"session_id": "s"})
    body = '{"session_state": ' + '{"k": ' * depth + "1" + "}" * depth + "}"

    response = await client.patch("/sessions/s", content=body, headers={"content-type": "application/json"})

    # Past the parser's own recursion limit FastAPI answers 400 "error parsing the body".
    assert response.status_code == (422 if depth == 300 else 400), response.text


@pytest.mark.parametrize("session_id", ["a/b", "x/runs", ".", "..", "/"])
async def test_a_session_id_that_cannot_be_addressed_in_a_url_is_refused(
    db: InMemoryDb, client: httpx.AsyncClient, session_id: str
) -> None:
    response = await client.post("/sessions", json={"session_id": session_id})

    assert _only_error(response)["loc"] == ["body", "session_id"]
    assert "could not be used in a URL" in response.json()["detail"][0]["msg"]
    assert db.get_sessions(SessionQuery()).total_count == 0


# -- configured -------------------------------------------------------------------------------------


async def test_limits_passed_to_create_app_apply(tight: httpx.AsyncClient) -> None:
    assert (
        await tight.post("/sessions", json={"session_id": "s", "session_name": "n" * 10})
    ).status_code == 201
    assert _only_error(await tight.post("/sessions", json={"session_name": "n" * 11}))["ctx"] == {
        "max_length": 10
    }
    assert _only_error(await tight.post("/sessions", json={"session_id": "i" * 9}))["ctx"] == {
        "max_length": 8
    }
    assert _only_error(await tight.patch("/sessions/s", json={"session_state": {"a": {"b": {"c": 1}}}}))[
        "ctx"
    ] == {"max_depth": 3}
    too_big = await tight.post("/sessions", json={"session_state": {"blob": "x" * 3_000}})
    assert too_big.status_code == 413
    assert too_big.json() == {"detail": "Request body too large: the limit is 2000 bytes"}


async def test_raised_limits_let_a_multi_megabyte_name_through_intact(db: InMemoryDb) -> None:
    name = "ünïcödé name " * 400_000  # 5.2 M characters
    limits = FieldLimits(max_name_chars=len(name))
    async for client in asgi_client(create_app(dbs=[db], field_limits=limits, max_body_bytes=64 << 20)):
        created = await client.post("/sessions", json={"session_id": "big", "session_name": name})
        listed = await client.get("/sessions")

        assert created.status_code == 201
        assert listed.json()["data"][0]["session_name"] == name


def test_field_limits_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="max_depth must be at most 200"):
        FieldLimits(max_depth=201)
    with pytest.raises(ValueError, match="max_name_chars must be at least 1"):
        FieldLimits(max_name_chars=0)


def test_non_object_bodies_are_checked_for_depth_only() -> None:
    limits = FieldLimits(max_depth=2)
    assert field_limit_errors([["ok"]], limits) == []
    assert field_limit_errors([[["deep"]]], limits)[0]["loc"] == ["body", 0, 0]
    assert field_limit_errors("session_name", limits) == []


def test_serve_passes_its_limits_to_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    served: dict[str, Any] = {}
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda api, **_: served.update(app=api))
    monkeypatch.setattr(
        "sessiondb.cli.serve._run_one_process", lambda api, _pending, **_: served.update(app=api)
    )
    config = tmp_path / "sessiondb.toml"
    config.write_text("max_id_chars = 40\n")
    args = [
        "serve",
        "--db",
        "memory",
        "--config",
        str(config),
        "--max-name-chars",
        "20",
        "--max-json-depth",
        "5",
    ]

    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 0, result.output
    assert served["app"].state.field_limits == FieldLimits(max_name_chars=20, max_id_chars=40, max_depth=5)


def test_serve_refuses_an_impossible_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *_, **__: pytest.fail("must not serve"))
    monkeypatch.setattr(
        "sessiondb.cli.serve._run_one_process", lambda *_, **__: pytest.fail("must not serve")
    )

    result = CliRunner().invoke(cli, ["serve", "--db", "memory", "--max-json-depth", "1000"])

    assert result.exit_code == 2
    assert "max_depth must be at most 200" in result.output
