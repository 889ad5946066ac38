"""The cluster suite is opt-in: ``SESSIONDB_CLUSTER=1 .venv/bin/pytest tests/cluster`` (or
``SESSIONDB_CLUSTER=1 bash .ci/run``). It needs Debian's etcd-server, patroni and haproxy;
``.ci/run`` installs them when the suite is asked for. Asked for and missing is a failure."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import missing_tools

ENABLED = os.environ.get("SESSIONDB_CLUSTER") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if ENABLED:
        return
    skip = pytest.mark.skip(reason="the cluster suite is opt-in: set SESSIONDB_CLUSTER=1")
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _cluster_tools() -> Iterator[None]:
    if ENABLED and (missing := missing_tools()):
        pytest.fail(f"SESSIONDB_CLUSTER=1 but these are not installed: {', '.join(missing)}")
    yield
