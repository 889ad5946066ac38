"""``create_app(agents=..., teams=..., workflows=...)``: which stores are served, descriptions, --app."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import asgi_client
from run_support import Hosted
from typer.testing import CliRunner

from sessiondb.agent import Agent
from sessiondb.api import create_app
from sessiondb.api.app_loader import load_app
from sessiondb.cli import app as cli
from sessiondb.db.memory import InMemoryDb
from sessiondb.models import TestModel
from sessiondb.team import Team


async def _db_ids(app_options: dict[str, Any]) -> list[str]:
    transport = httpx.ASGITransport(app=create_app(**app_options))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        databases: list[str] = (await client.get("/config")).json()["databases"]
    return databases


async def test_runtime_stores_are_served_next_to_listed_ones() -> None:
    own, other = InMemoryDb(id="own"), InMemoryDb(id="other")
    agent = Agent(name="A", model=TestModel(), db=own)
    team = Team(name="T", model=TestModel(), db=own, members=[Agent(name="M", db=InMemoryDb(id="member"))])

    assert await _db_ids({"agents": [agent]}) == ["own"]
    assert await _db_ids({"dbs": [other], "agents": [agent], "teams": [team]}) == ["other", "own", "member"]
    # A store already listed is served once, under the id it was listed with.
    assert await _db_ids({"dbs": {"renamed": own}, "agents": [agent]}) == ["renamed"]


def test_create_app_refuses_bad_runtime_arguments() -> None:
    db = InMemoryDb(id="main")
    with pytest.raises(ValueError, match="share the id 'twin'"):
        create_app(agents=[Agent(id="twin", db=db), Agent(id="twin", db=db)])
    with pytest.raises(ValueError, match="must hold Agent objects, not Team"):
        create_app(agents=[Team(name="T", db=db)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="already used in dbs="):
        create_app(dbs={"main": InMemoryDb(id="x")}, agents=[Agent(name="A", db=db)])
    # A runtime without db keeps its private memory store, which is not served: nothing to serve.
    with pytest.raises(ValueError, match="at least one database"):
        create_app(agents=[Agent(name="A")])


async def test_runtimes_are_described() -> None:
    hosted = Hosted(InMemoryDb(id="main"))
    async for client in asgi_client(create_app(**hosted.app_options())):
        agents = (await client.get("/agents")).json()
        assert [(a["id"], a["name"], a["db_id"]) for a in agents] == [
            ("helper", "Helper", "main"),
            ("broken", "Broken", "main"),
        ]
        helper = (await client.get("/agents/helper")).json()
        assert helper["model"] == {"name": "FunctionModel", "model": "function-model", "provider": "Function"}
        assert helper["sessions"]["add_history_to_context"] is True

        [team] = (await client.get("/teams")).json()
        assert [(m["id"], m["role"]) for m in team["members"]] == [("researcher", "Finds facts")]
        assert "db_id" not in team["members"][0]  # members store into the team's session

        workflow = (await client.get("/workflows/draft")).json()
        assert [step["name"] for step in workflow["steps"]] == ["Write", "shout"]
        assert (await client.get("/workflows/nope")).json() == {"detail": "Workflow not found"}


def _write_module(tmp_path: Path, name: str, body: str) -> None:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))


def test_load_app_takes_an_app_or_a_factory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    _write_module(
        tmp_path,
        "hosted_app_mod",
        """
        from sessiondb.api import create_app
        from sessiondb.db.memory import InMemoryDb
        from fastapi import FastAPI

        app = create_app(dbs=[InMemoryDb(id="main")])
        calls = []

        def factory():
            calls.append(1)
            return app

        class Holder:
            inner = app

        plain = FastAPI()
        number = 3
        """,
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(tmp_path)])
    request.addfinalizer(lambda: sys.modules.pop("hosted_app_mod", None))
    module_app = load_app("hosted_app_mod:app")
    assert load_app("hosted_app_mod:factory") is module_app
    assert sys.modules["hosted_app_mod"].calls == [1]
    assert load_app("hosted_app_mod:Holder.inner") is module_app

    for reference, message in [
        ("hosted_app_mod", "must look like 'module:attr'"),
        ("hosted_app_mod:missing", "has no attribute 'missing'"),
        ("no_such_module_xyz:app", "cannot import 'no_such_module_xyz'"),
        ("hosted_app_mod:number", "is a int"),
        ("hosted_app_mod:plain", "not made by sessiondb.api.create_app"),
    ]:
        with pytest.raises(ValueError, match=message):
            load_app(reference)


def test_serve_app_refuses_db_and_bad_references() -> None:
    runner = CliRunner()
    both = runner.invoke(cli, ["serve", "--app", "examples.serve_app:app", "--db", "x.db"])
    assert both.exit_code == 2 and "--db cannot be combined with --app" in both.output
    bad = runner.invoke(cli, ["serve", "--app", "no_such_module_xyz:app"])
    assert bad.exit_code == 2 and "cannot import 'no_such_module_xyz'" in bad.output


@pytest.mark.slow  # a child Python process
def test_the_example_app_runs_each_runtime_as_a_script(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[3] / "examples" / "serve_app.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SESSIONDB_"))}
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**env, "SESSIONDB_EXAMPLE_DB_FILE": str(tmp_path / "ex.db")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "POST /agents/assistant/runs -> COMPLETED: TestModel reply to: Tell me about octopuses",
        "POST /teams/research-team/runs -> COMPLETED: TestModel reply to: Tell me about octopuses",
        "POST /workflows/draft-and-shout/runs -> COMPLETED: TESTMODEL REPLY TO: TELL ME ABOUT OCTOPUSES",
        "GET /sessions -> ['assistant', 'draft-and-shout', 'research-team']",
    ]
