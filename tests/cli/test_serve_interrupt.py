"""A Ctrl-C while uvicorn is still setting up (before its own handlers are in place) asks the
server to stop; it is never raised inside uvicorn's start-up code (where a ``SystemExit`` once
landed inside the event loop's constructor and CPython printed an ignored ``AttributeError``)."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

import pytest
import uvicorn

from sessiondb._entry import INTERRUPTED
from sessiondb.cli.serve import _run_one_process


class _StartingServer:
    """Stands in for ``uvicorn.Server``: Ctrl-C arrives in the middle of its start-up."""

    made: list[_StartingServer] = []

    def __init__(self, config: Any) -> None:
        self.config = config
        self.started = False
        self.exits: list[int] = []
        self.finished_start_up = False
        _StartingServer.made.append(self)

    def handle_exit(self, signum: int, frame: FrameType | None) -> None:
        self.exits.append(signum)

    def run(self) -> None:
        signal.raise_signal(signal.SIGINT)  # e.g. while the event loop is being built
        self.finished_start_up = True
        self.started = True


@pytest.fixture
def fake_uvicorn(monkeypatch: pytest.MonkeyPatch) -> list[_StartingServer]:
    monkeypatch.setattr(uvicorn, "Config", lambda app, **options: (app, options))
    monkeypatch.setattr(uvicorn, "Server", _StartingServer)
    _StartingServer.made = []
    before = signal.getsignal(signal.SIGINT)
    yield _StartingServer.made
    signal.signal(signal.SIGINT, before)


def test_ctrl_c_during_start_up_reaches_the_server_then_exits_130(
    fake_uvicorn: list[_StartingServer],
) -> None:
    pending: list[int] = []

    with pytest.raises(SystemExit) as exited:
        _run_one_process("app", pending, host="127.0.0.1", port=1)

    [server] = fake_uvicorn
    assert server.config == ("app", {"host": "127.0.0.1", "port": 1})
    assert server.finished_start_up and server.exits == [signal.SIGINT]
    assert exited.value.code == INTERRUPTED


def test_ctrl_c_noted_before_the_server_exists_is_handed_to_it(fake_uvicorn: list[_StartingServer]) -> None:
    class _Quiet(_StartingServer):
        def run(self) -> None:
            self.finished_start_up = True
            self.started = True

    uvicorn.Server = _Quiet  # type: ignore[misc]  # undone by the fixture's monkeypatch

    with pytest.raises(SystemExit) as exited:
        _run_one_process("app", [signal.SIGINT])

    [server] = fake_uvicorn
    assert server.exits == [signal.SIGINT]  # asked to stop before it ran
    assert exited.value.code == INTERRUPTED


def test_a_server_that_could_not_start_exits_3(fake_uvicorn: list[_StartingServer]) -> None:
    class _Refused(_StartingServer):
        def run(self) -> None:
            self.finished_start_up = True

    uvicorn.Server = _Refused  # type: ignore[misc]

    with pytest.raises(SystemExit) as exited:
        _run_one_process("app", [])

    assert exited.value.code == 3
