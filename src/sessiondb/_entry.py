"""The ``sessiondb`` command's entry point: Ctrl-C is quiet from the very first instant.

Importing the command's modules takes a moment; a Ctrl-C meanwhile would print the traceback
of whichever import it interrupted. So the handler goes in first, before those imports, and
stays for the commands (``serve`` puts uvicorn's own in place while it serves, and uvicorn
raises the signal again once it has shut down, which lands here too).
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

INTERRUPTED = 130
"""The exit code after Ctrl-C (128 + SIGINT), as shells report it."""


def _interrupted(_signum: int, _frame: FrameType | None) -> None:
    # SystemExit, not KeyboardInterrupt: it unwinds (closing stores in `finally` blocks) and
    # ends the process without a traceback.
    raise SystemExit(INTERRUPTED)


def main() -> None:
    """Run the ``sessiondb`` command."""
    signal.signal(signal.SIGINT, _interrupted)
    from sessiondb.cli import main as run

    run()
    sys.exit(0)
