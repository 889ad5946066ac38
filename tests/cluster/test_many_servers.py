"""Three servers behind HAProxy over one Patroni cluster behave as one server: no sticky
sessions, and the promises that need the database's help (the state merge of concurrent runs
into one session) hold across processes.

    SESSIONDB_CLUSTER=1 .venv/bin/pytest tests/cluster -v
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from harness import Cluster

from hot_session import burst, lost_in
from sessiondb.db.postgres import PostgresDb


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="sessiondb-cluster-"))
    running = Cluster(root=root)
    try:
        running.start()
        yield running
    except BaseException:
        print(f"cluster files kept in {root}\n{running.logs()}")
        raise
    else:
        shutil.rmtree(root, ignore_errors=True)
    finally:
        running.stop()


@pytest.mark.parametrize("kind", ["agents", "teams"])
def test_concurrent_runs_into_one_session_through_every_server_all_land(cluster: Cluster, kind: str) -> None:
    """48 clients x 2 runs into one session, spread over three servers by HAProxy: every run
    stored COMPLETED with its reply, every run's state key present (merged under the row lock,
    whichever server ran it), no 412/409 the clients did not ask for."""
    base_url = f"http://127.0.0.1:{cluster.api_port}"
    session_id = f"hot-cluster-{kind}"
    result = anyio.run(lambda: burst(base_url, kind, session_id, clients=48, runs_each=2))
    assert result.failures == [], result.failures[:5]
    assert len(result.run_ids) == 96
    store = PostgresDb(db_url=cluster.primary_url(), id="check", auto_migrate=False)
    try:
        assert lost_in(store, session_id, result) == []
    finally:
        store.close()
    print(f"\n{kind}: 96 runs into one session over 3 servers at {result.runs_per_second:.1f} runs/s")


def test_a_session_written_through_one_server_is_read_through_every_other(cluster: Cluster) -> None:
    first, *others = cluster.api_ports
    created = httpx.post(
        f"http://127.0.0.1:{first}/sessions", json={"session_id": "everywhere", "agent_id": "a"}
    )
    assert created.status_code == 201, created.text
    etag = created.headers["etag"]
    for port in others:
        read = httpx.get(f"http://127.0.0.1:{port}/sessions/everywhere")
        assert read.status_code == 200 and read.headers["etag"] == etag
    # A conditional write through another server sees the same version.
    stale = httpx.patch(
        f"http://127.0.0.1:{others[0]}/sessions/everywhere",
        json={"session_name": "renamed"},
        headers={"If-Match": etag},
    )
    assert stale.status_code == 200, stale.text
    again = httpx.patch(
        f"http://127.0.0.1:{others[1]}/sessions/everywhere",
        json={"session_name": "again"},
        headers={"If-Match": etag},
    )
    assert again.status_code == 412, again.text
