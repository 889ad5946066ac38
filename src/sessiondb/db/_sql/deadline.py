"""A client-side bound on a call's wait for the server: the socket is shut down when it passes.

``statement_timeout`` is enforced by the server, so it cannot end a wait for a server that
never answers (a black-holed network, a frozen host): psycopg's blocking calls would wait for
the kernel to give up on the TCP connection, many minutes later. :class:`Watchdog` keeps the
deadline of every call in flight; one thread wakes at the earliest and shuts down the socket
of each call past its deadline. The driver's wait then ends with a connection error, which
SQLAlchemy treats as a disconnect (the connection is discarded) and the store reports as
:class:`~sessiondb.db.errors.StoreUnavailable`.

Shutting a socket down (not closing it) leaves the file descriptor to its owner, the driver,
so it cannot be reused under it. Registering and clearing a call costs a lock and a dict
operation; the thread sleeps while nothing is in flight.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(eq=False)
class _Watched:
    fileno: int
    deadline: float
    fired: bool = False


class Watchdog:
    """Shuts down the socket of any call that outlives its deadline (see the module docstring)."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._watched: set[_Watched] = set()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def watch(self, fileno: int, seconds: float) -> Iterator[_Watched]:
        """Bound the block's wait on the socket ``fileno`` to ``seconds``.

        Yields:
            The watch; its ``fired`` attribute tells whether the deadline passed (the socket
            was then shut down, and the block's driver call failed because of it).
        """
        watched = _Watched(fileno, time.monotonic() + seconds)
        with self._wake:
            self._watched.add(watched)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sessiondb-deadlines", daemon=True)
                self._thread.start()
            elif len(self._watched) == 1:
                self._wake.notify()
        try:
            yield watched
        finally:
            # Under the lock: once this returns, the thread can no longer shut the socket down,
            # so a connection returned to the pool is never cut afterwards.
            with self._wake:
                self._watched.discard(watched)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._watched:
                    self._wake.wait()
                now = time.monotonic()
                due = [watched for watched in self._watched if watched.deadline <= now]
                for watched in due:
                    self._watched.discard(watched)
                    watched.fired = True
                    _shut_down(watched.fileno)
                if not due:
                    earliest = min(watched.deadline for watched in self._watched)
                    # Capped, so that a new, earlier deadline is seen within 0.1 s.
                    self._wake.wait(min(earliest - now, 0.1))


def _shut_down(fileno: int) -> None:
    # fromfd duplicates the descriptor: shutting the duplicate down ends the connection for
    # the driver's descriptor too, and closing it leaves the driver's untouched.
    with contextlib.suppress(OSError), socket.fromfd(fileno, socket.AF_INET, socket.SOCK_STREAM) as dup:
        dup.shutdown(socket.SHUT_RDWR)


WATCHDOG = Watchdog()
"""The process's watchdog, shared by every store."""
