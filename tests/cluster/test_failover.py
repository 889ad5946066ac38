"""Three sessiondb servers behind HAProxy over a Patroni cluster: the primary dies (or is
switched over) under a load of 16 clients, and nothing a client was told is stored goes missing.

    SESSIONDB_CLUSTER=1 .venv/bin/pytest tests/cluster -v

Checks, for each topology (HAProxy's primary front; libpq multi-host URLs naming the nodes):
every acknowledged run is stored exactly once, the last acknowledged state is stored, no
answer is a 5xx other than 503, no request outlives its bound, and writes succeed again within
seconds of the new primary's promotion (the recovery time is printed for docs/scale-out.md).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from harness import Cluster, wait_for
from load import REQUEST_TIMEOUT_S, Load

LOAD_BEFORE_FAULT_S = 4.0
RECOVERED_FOR_S = 3.0
"""After the promotion, the load must see writes succeed for this long before it stops."""


def _cluster(db_url: Callable[[Cluster], str]) -> Iterator[Cluster]:
    # Not under pytest's tmp_path: that is private to root, and Patroni runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="sessiondb-cluster-"))
    cluster = Cluster(root=root)
    try:
        cluster.start(db_url=db_url)
        yield cluster
    except BaseException:
        print(f"cluster files kept in {root}\n{cluster.logs()}")
        raise
    else:
        shutil.rmtree(root, ignore_errors=True)
    finally:
        cluster.stop()


@pytest.fixture
def behind_haproxy() -> Iterator[Cluster]:
    yield from _cluster(lambda c: c.primary_url())


@pytest.fixture
def multi_host() -> Iterator[Cluster]:
    yield from _cluster(lambda c: c.hosts_url())


def _check_nothing_lost(cluster: Cluster, load: Load) -> None:
    api = f"http://127.0.0.1:{cluster.api_port}"
    with httpx.Client(base_url=api, timeout=REQUEST_TIMEOUT_S) as client:
        for log in load.logs:
            if not log.run_ids:
                continue
            answer = client.get(f"/sessions/{log.session_id}/runs")
            assert answer.status_code == 200, answer.text
            stored = [run["run_id"] for run in answer.json()]
            for run_id in log.run_ids:
                assert stored.count(run_id) == 1, (
                    f"acknowledged run {run_id} stored {stored.count(run_id)} times"
                )
            if log.state_keys:
                detail = client.get(f"/sessions/{log.session_id}").json()
                assert set(log.state_keys) <= set(detail["session_state"]), detail["session_state"]


def _check_answers(load: Load) -> None:
    statuses = load.statuses()
    bad = {code: n for code, n in statuses.items() if code >= 500 and code != 503}
    assert not bad, f"5xx other than 503: {bad} (all: {dict(statuses)})"
    slowest = max(log.slowest_s for log in load.logs)
    assert slowest < REQUEST_TIMEOUT_S, f"a request took {slowest:.1f} s"


def _drive_through(cluster: Cluster, fault: Callable[[], None]) -> tuple[Load, float]:
    """Run the load, apply ``fault`` after a few seconds, wait for a new primary and for
    writes to succeed again; returns the load and the seconds from promotion to recovery."""
    load = Load(f"http://127.0.0.1:{cluster.api_port}")
    load.start()
    try:
        time.sleep(LOAD_BEFORE_FAULT_S)
        old = cluster.primary()
        fault()
        wait_for("a new primary", lambda: any(n.role() == "primary" for n in cluster.pg if n is not old), 60)
        promoted_at = time.monotonic()
        wait_for(
            "writes to succeed after the promotion",
            lambda: any(t > promoted_at for log in load.logs for t in log.ok_times),
            30,
        )
        recovered_s = min(t for log in load.logs for t in log.ok_times if t > promoted_at) - promoted_at
        time.sleep(RECOVERED_FOR_S)
    finally:
        load.stop()
    print(
        f"\nacknowledged writes: {load.acknowledged()}, statuses: {dict(load.statuses())}, "
        f"recovered {recovered_s:.1f} s after the promotion"
    )
    return load, recovered_s


def test_primary_killed_behind_haproxy_loses_no_acknowledged_write(behind_haproxy: Cluster) -> None:
    cluster = behind_haproxy
    load, recovered_s = _drive_through(cluster, lambda: cluster.kill_node(cluster.primary()))
    assert load.acknowledged() > 100
    _check_answers(load)
    _check_nothing_lost(cluster, load)
    assert recovered_s < 15


def _switchover(cluster: Cluster) -> None:
    old = cluster.primary()
    # With synchronous replication on, Patroni promotes only the synchronous standby (any other
    # candidate is a 412): ask the cluster which node that is.
    members = httpx.get(f"http://127.0.0.1:{old.rest_port}/cluster", timeout=5).json()["members"]
    standbys = [m["name"] for m in members if m.get("role") == "sync_standby"]
    candidate = standbys[0] if standbys else next(n.name for n in cluster.pg if n is not old)
    answer = httpx.post(
        f"http://127.0.0.1:{old.rest_port}/switchover",
        json={"leader": old.name, "candidate": candidate},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def test_switchover_with_multi_host_url_reconnects_to_the_new_primary(multi_host: Cluster) -> None:
    """The demoted primary stays up as a replica: servers whose pooled connections still point
    at it must not answer "read-only transaction" for good."""
    cluster = multi_host
    load, recovered_s = _drive_through(cluster, lambda: _switchover(cluster))
    assert load.acknowledged() > 100
    _check_answers(load)
    _check_nothing_lost(cluster, load)
    assert recovered_s < 15
    late = [log for log in load.logs if log.statuses[503] and not log.ok_times]
    assert not late, "a client never got a write through"


def test_primary_killed_with_multi_host_url_loses_no_acknowledged_write(multi_host: Cluster) -> None:
    cluster = multi_host
    load, recovered_s = _drive_through(cluster, lambda: cluster.kill_node(cluster.primary()))
    _check_answers(load)
    _check_nothing_lost(cluster, load)
    assert recovered_s < 15


@pytest.fixture
def with_replicas() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="sessiondb-cluster-"))
    cluster = Cluster(root=root, read_replicas=True)
    try:
        cluster.start()
        yield cluster
    except BaseException:
        print(f"cluster files kept in {root}\n{cluster.logs()}")
        raise
    else:
        shutil.rmtree(root, ignore_errors=True)
    finally:
        cluster.stop()


def _write_then_read(base_url: str, client_number: int, rounds: int) -> list[str]:
    """One client: write a state, read the session back at once; the reads that missed it."""
    stale = []
    session_id = f"ryw-{client_number}"
    # httpx keeps the consistency cookie each write hands out, as a browser would.
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        assert (
            client.post("/sessions", json={"session_id": session_id, "agent_id": "assistant"}).status_code
            == 201
        )
        for step in range(rounds):
            written = client.patch(f"/sessions/{session_id}", json={"session_state": {"step": step}})
            assert written.status_code == 200, written.text
            read = client.get(f"/sessions/{session_id}")
            assert read.status_code == 200, read.text
            if read.json()["session_state"] != {"step": step}:
                stale.append(f"{session_id} step {step}: read {read.json()['session_state']}")
    return stale


def test_reads_from_replicas_are_never_older_than_the_clients_own_writes(with_replicas: Cluster) -> None:
    cluster = with_replicas
    base_url = f"http://127.0.0.1:{cluster.api_port}"
    with ThreadPoolExecutor(16) as pool:
        stale = [
            miss
            for found in pool.map(lambda n: _write_then_read(base_url, n, 25), range(16))
            for miss in found
        ]
    assert stale == []
    replica_reads = primary_reads = 0
    for port in cluster.api_ports:
        details = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()["details"]["main"]
        replica_reads += sum(replica["reads"] for replica in details["replicas"])
        primary_reads += details["primary_reads"]
    print(f"\nreads served by replicas: {replica_reads}, by the primary: {primary_reads}")
    # Reads with a token may go either way; but the replicas must serve some of them.
    assert replica_reads > 0
