"""``sessiondb serve`` in a child process, for every test that needs a real server and real sockets.

Output goes to a file rather than a pipe: a server that logs a lot (a soak) would otherwise
block on a full pipe that nobody reads.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """A running ``sessiondb serve``.

    Attributes:
        base_url: where it listens.
        process: the child process.
        log_path: the file its stdout and stderr go to.
    """

    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace")


def serve_command(args: Sequence[str]) -> list[str]:
    """The command line of ``sessiondb serve`` with ``args``."""
    return [sys.executable, "-m", "sessiondb.cli", "serve", *args]


def _wait_up(base_url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log_path.read_text(errors="replace")
            raise AssertionError(f"sessiondb serve exited with {process.returncode}:\n{output}")
        try:
            # Any answer means the server is up; /health may well be 503 in a fault test.
            httpx.get(f"{base_url}/health", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"sessiondb serve did not answer within {timeout} s:\n{log_path.read_text()}")


@contextmanager
def live_server(
    args: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: int | None = None,
    preexec_fn: Callable[[], None] | None = None,
    timeout: float = 90,
    port: int | None = None,
) -> Iterator[LiveServer]:
    """Run ``sessiondb serve args --port <free port>`` until the block ends.

    Args:
        args: serve's arguments (``--port`` is added).
        log_path: where the server's output goes.
        env: extra environment variables.
        cwd: the server's working directory.
        user: run the server as this uid (a test running as root uses it to drop privileges).
        preexec_fn: run in the child before ``exec`` (e.g. to set resource limits).
        timeout: seconds to wait for the server to answer.
        port: the port to listen on (default: one free now).
    """
    port = port or free_port()
    command = serve_command([*args, "--port", str(port)])
    child_env = {**os.environ, **(env or {})}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_env,
            cwd=cwd,
            user=user,
            preexec_fn=preexec_fn,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base_url, process, log_path, timeout)
        yield LiveServer(base_url, process, log_path)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server: SIGTERM (uvicorn shuts down gracefully), then SIGKILL after 10 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
