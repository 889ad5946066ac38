"""A client that sends its request headers too slowly is disconnected within the bound."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from live_server import LiveServer, live_server

BOUND_S = 0.5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``sessiondb serve`` with a half-second header bound."""
    tmp = tmp_path_factory.mktemp("slow")
    args = ["--db", "memory", "--header-timeout", str(BOUND_S), "--log-level", "warning"]
    with live_server(args, log_path=tmp / "serve.log") as running:
        yield running


def _connect(server: LiveServer) -> socket.socket:
    parts = urlsplit(server.base_url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10)
    return sock


def _closed_after(sock: socket.socket) -> float:
    """Seconds until the server closes ``sock`` (reading and dropping whatever it sends first)."""
    started = time.monotonic()
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return time.monotonic() - started


@pytest.mark.parametrize(
    "sent",
    [b"", b"GET /health HTTP/1.1\r\n", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: 1"],
    ids=["nothing", "request-line", "partial-header"],
)
def test_a_connection_without_a_complete_head_is_closed_within_the_bound(
    server: LiveServer, sent: bytes
) -> None:
    with _connect(server) as sock:
        sock.sendall(sent)
        waited = _closed_after(sock)
    assert BOUND_S * 0.8 < waited < BOUND_S + 1.5, waited


def test_a_trickle_of_header_bytes_does_not_reset_the_clock(server: LiveServer) -> None:
    with _connect(server) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        try:
            for _ in range(40):  # 2 s of one header byte every 50 ms
                time.sleep(0.05)
                sock.sendall(b"X")
        except OSError:
            pass  # closed under us: what the bound is for
        _closed_after(sock)
    assert time.monotonic() - started < BOUND_S + 1.5


def test_a_kept_alive_connection_gets_the_bound_for_each_request(server: LiveServer) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(65536)
        sock.sendall(b"GET /health HTTP/1.1\r\n")  # the next request, never finished
        waited = _closed_after(sock)
    assert first.startswith(b"HTTP/1.1 200")
    assert waited < BOUND_S + 1.5


def test_a_head_sent_slowly_but_within_the_bound_is_served(server: LiveServer) -> None:
    with _connect(server) as sock:
        for piece in (b"GET /health HTTP/1.1\r\n", b"Host: x\r\n", b"Connection: close\r\n", b"\r\n"):
            sock.sendall(piece)
            time.sleep(BOUND_S / 8)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")


def test_the_bound_is_a_setting_with_a_default() -> None:
    from sessiondb.api.serve import ServeSettings
    from sessiondb.api.slow_clients import DEFAULT_HEADER_TIMEOUT_S

    assert ServeSettings().header_timeout == DEFAULT_HEADER_TIMEOUT_S == 10.0
    with pytest.raises(ValueError, match="header_timeout"):
        ServeSettings(header_timeout=0)
