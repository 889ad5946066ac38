"""Start, probe, measure and stop server and load-generator subprocesses."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def child_env() -> dict[str, str]:
    """The environment for children: this one, with the repository on ``PYTHONPATH``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def fetch(port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """``GET`` a path from a local server: status and body."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), bytes(error.read())


class Server:
    """A server subprocess on a local port.

    Attributes:
        name: what the report calls it (``sessiondb``, ``baseline``, ``agno``).
        port: where it listens.
    """

    def __init__(self, name: str, argv: Sequence[str], port: int, probe_path: str) -> None:
        self.name = name
        self.port = port
        self._process = subprocess.Popen(list(argv), cwd=REPO, env=child_env())
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"server {name!r} exited with {self._process.returncode} during start-up")
            try:
                fetch(port, probe_path, timeout=2.0)
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"server {name!r} did not answer on port {port}") from None
                time.sleep(0.1)

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self._process.pid

    def stop(self) -> None:
        """SIGTERM (a graceful uvicorn shutdown, so a profile gets written), then wait."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def run_plan(plan: dict[str, Any], plan_file: Path) -> dict[str, Any]:
    """Run the load generator (in a subprocess) on ``plan``; see :mod:`bench.web.loadgen`."""
    plan_file.write_text(json.dumps(plan))
    argv = [sys.executable, "-m", "bench.web.loadgen", str(plan_file)]
    done = subprocess.run(argv, cwd=REPO, env=child_env(), capture_output=True, text=True, check=True)
    outcome: dict[str, Any] = json.loads(done.stdout)
    return outcome


def load_plan(
    servers: Sequence[Server],
    paths: Sequence[str],
    *,
    rounds: int,
    per_round: int,
    warmup: int,
    concurrency: int,
    timeout: float = 120.0,
) -> dict[str, Any]:
    """A load-generator plan for ``servers``."""
    return {
        "servers": [{"name": server.name, "port": server.port, "pid": server.pid} for server in servers],
        "paths": list(paths),
        "rounds": rounds,
        "per_round": per_round,
        "warmup": warmup,
        "concurrency": concurrency,
        "timeout": timeout,
    }
