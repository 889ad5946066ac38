"""Read-your-writes across replicas: the consistency token a write hands out and a read brings back.

A store that reads from replicas (``PostgresDb(read_replica_urls=...)``) records, after each
write, the primary's WAL position at commit; the HTTP API returns it to the client as the
``X-Sessiondb-Consistency`` header (and a cookie of the same name). A read that brings the token
back is served by a replica only if that replica has replayed at least up to it, else by the
primary: a client never reads older data than it wrote. A read without a token may be served
by any replica (as any replica read is: at most the replication lag old).

The token is the WAL position as PostgreSQL prints it (``16/B374D848``). Pure: no I/O.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass

from sessiondb.db.errors import InvalidQuery

HEADER = "X-Sessiondb-Consistency"
"""The response header carrying the token after a write, and the request header bringing it back."""

COOKIE = "sessiondb_consistency"
"""The cookie carrying the same token, for clients that keep cookies but not headers."""

_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")


def parse_position(token: str) -> int:
    """The WAL position a token names, as one integer (comparable with ``<``).

    Raises:
        InvalidQuery: the token is not a WAL position (``hex/hex``).
    """
    match = _LSN.match(token.strip())
    if match is None:
        raise InvalidQuery(
            HEADER, f"not a consistency token (expected a WAL position like 0/16B3748): {token!r}"
        )
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def format_position(position: int) -> str:
    """The token for a WAL position (the inverse of :func:`parse_position`)."""
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


@dataclass
class Consistency:
    """One request's consistency: what its reads must see, and what its writes reached.

    Attributes:
        floor: the WAL position reads must have replayed (from the client's token), or ``None``.
        written: the primary's WAL position after this request's last write, or ``None``.
    """

    floor: int | None = None
    written: int | None = None

    def wrote(self, position: int) -> None:
        """Record a write at ``position``; later reads of the same request must see it too."""
        self.written = position if self.written is None else max(self.written, position)
        self.floor = position if self.floor is None else max(self.floor, position)


# A mutable holder rather than a plain value: stores run in worker threads, which get a copy of
# the caller's context; a write recorded there must still reach the caller's response.
current: ContextVar[Consistency | None] = ContextVar("sessiondb_consistency", default=None)
