"""A Ctrl-C while uvicorn is still setting up (before its own handlers are in place) asks the
server to stop; it is never raised inside uvicorn's start-up code (where a ``SystemExit`` once
landed inside the event loop's constructor and CPython printed an ignored ``AttributeError``)."""

from __future__ import annotations

import signal
from types import FrameType

import pytest

from sessiondb._entry import INTERRUPTED
from sessiondb.cli.serve import _serve_until_interrupted


class _StartingServer:
    """Stands in for ``uvicorn.Server``: Ctrl-C arrives in the middle of its start-up."""

    def __init__(self) -> None:
        self.started = False
        self.exits: list[int] = []
        self.finished_start_up = False

    def handle_exit(self, signum: int, frame: FrameType | None) -> None:
        self.exits.append(signum)

    def run(self) -> None:
        signal.raise_signal(signal.SIGINT)  # e.g. while the event loop is being built
        self.finished_start_up = True
        self.started = True


def test_ctrl_c_during_start_up_reaches_the_server_then_exits_130(capsys: pytest.CaptureFixture[str]) -> None:
    def must_not_run(_signum: int, _frame: FrameType | None) -> None:
        raise AssertionError("the command's own Ctrl-C handler ran while uvicorn was starting")

    before = signal.signal(signal.SIGINT, must_not_run)
    server = _StartingServer()
    try:
        with pytest.raises(SystemExit) as exited:
            _serve_until_interrupted(server, ["banner line"])  # type: ignore[arg-type]
        after = signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, before)

    assert server.finished_start_up and server.exits == [signal.SIGINT]
    assert exited.value.code == INTERRUPTED
    assert after is must_not_run  # the command's handler is back once the server is done
    assert capsys.readouterr().out == "banner line\n"


def test_a_server_that_could_not_start_exits_3() -> None:
    class _Refused(_StartingServer):
        def run(self) -> None:
            self.finished_start_up = True

    with pytest.raises(SystemExit) as exited:
        _serve_until_interrupted(_Refused(), [])  # type: ignore[arg-type]

    assert exited.value.code == 3
