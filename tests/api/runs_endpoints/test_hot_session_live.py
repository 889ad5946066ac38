"""100 concurrent HTTP clients x 2 runs into one session, agent and team, live (SQLite, PostgreSQL).

Before runs committed their state under the session's row lock, a burst like this made runs the
model had finished end as ERROR ("Session ... is at version N, not M"), answered 412 to
clients that never sent ``If-Match``, with their state change dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import orjson
import pytest

from hot_session import SLOW_AGENT_ID, burst, lost_in
from live_server import LiveServer, live_server
from sessiondb.db._sql import SqlStore
from sessiondb.run.status import RunStatus
from store_backends import SQL_PARAMS, SqlTarget, sql_target_for

pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parents[2]
ARGS = ["--app", "hot_session:hot_app", "--log-level", "warning"]
CLIENTS = 100
RUNS_EACH = 2


@dataclass
class Served:
    """A live server hosting the hot-session runtimes, and a store on its database."""

    server: LiveServer
    store: SqlStore
    env: dict[str, str]


def _env(target: SqlTarget) -> dict[str, str]:
    if target.kind == "sqlite":
        return {"HOT_DB_FILE": target.location}
    return {"HOT_DB_URL": target.location, "HOT_DB_SCHEMA": str(target.schema)}


@pytest.fixture(params=SQL_PARAMS)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    with sql_target_for(request.param, tmp_path) as target:
        store = target.open()
        store.migrate()
        try:
            with live_server(ARGS, env=_env(target), cwd=TESTS, log_path=tmp_path / "serve.log") as server:
                yield Served(server, store, _env(target))
        finally:
            store.close()


@pytest.mark.parametrize("kind", ["agents", "teams"])
async def test_every_concurrent_run_into_one_session_completes_and_keeps_its_state(
    served: Served, kind: str
) -> None:
    result = await burst(served.server.base_url, kind, "hot", clients=CLIENTS, runs_each=RUNS_EACH)
    assert result.failures == [], (result.statuses, result.failures[:10])
    assert len(result.run_ids) == len(set(result.run_ids)) == CLIENTS * RUNS_EACH
    assert lost_in(served.store, "hot", result) == []
    assert "Traceback" not in served.server.output(), served.server.output()[-3000:]


async def test_a_streamed_run_whose_client_hangs_up_finishes_and_is_stored_completed(served: Served) -> None:
    """The chosen behaviour (docs/reliability.md): the run carries on without its client."""
    url = f"{served.server.base_url}/agents/{SLOW_AGENT_ID}/runs"
    form = {"message": "are you there", "session_id": "gone", "stream": "true"}
    async with httpx.AsyncClient(timeout=10) as http, http.stream("POST", url, data=form) as response:
        first = await anext(response.aiter_lines())
        assert first == "event: RunStarted"
        # Leaving the block closes the connection mid-run, with the model's reply still to come.
    with anyio.fail_after(20):
        while True:
            [run] = served.store.get_runs("gone")
            if run.status != RunStatus.RUNNING:
                break
            await anyio.sleep(0.1)
    assert run.status == RunStatus.COMPLETED
    assert run.content == "slow reply to are you there"


async def test_a_run_is_cancelled_through_another_server_on_the_same_database(
    served: Served, tmp_path: Path
) -> None:
    """Server B's cancel flags the run in the database; server A, running it, stops it."""
    with live_server(ARGS, env=served.env, cwd=TESTS, log_path=tmp_path / "other.log") as other:
        url = f"{served.server.base_url}/agents/{SLOW_AGENT_ID}/runs"
        form = {"message": "stop me", "session_id": "elsewhere", "stream": "true"}
        async with httpx.AsyncClient(timeout=20) as http, http.stream("POST", url, data=form) as response:
            lines = response.aiter_lines()
            assert await anext(lines) == "event: RunStarted"
            run_id = orjson.loads((await anext(lines)).removeprefix("data: "))["run_id"]
            cancel = await http.post(f"{other.base_url}/agents/{SLOW_AGENT_ID}/runs/{run_id}/cancel")
            assert cancel.status_code == 200 and cancel.json() == {}
            events = [line for line in [line async for line in lines] if line.startswith("event: ")]
    assert events[-1] == "event: RunCancelled"
    assert served.store.get_run(run_id).status == RunStatus.CANCELLED
