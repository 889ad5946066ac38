"""A process-local cache of the hot reads' answers, checked against the database on every request.

The fast reads (:mod:`sessiondb.api.fast_reads`) cost at least the SQL of the read, more than
half of what a bare ASGI app spends on a whole request (issue 20, docs/benchmarks.md). A UI
asks the same pages again and again, and most of them have not changed. So each answer is
kept with the version of the data it was read at (:meth:`RawReads.aread_version
<sessiondb.db._sql.raw_reads.RawReads.aread_version>`: SQLite's ``PRAGMA data_version``,
PostgreSQL's current snapshot), and served again only while the database's version is still
that one. The version is asked on every request, after authentication and before the read
it stands for, so the cache is exact: any commit, through this process or any other, is seen
by the very next request; a commit racing the read only makes the entry drop sooner.

An entry is keyed by the route, the path, the query string (its parameters in name order, the
values of a repeated name in their order), the store object, and who asks: the caller's user
id and admin flag and the ``user_id`` filter the auth resolved. Callers that may see different
sessions never share an entry; authentication and the scope check run before the lookup, on
every request. What is kept is bounded in entries and in bytes (least recently used first
out); an answer larger than an eighth of the byte budget is not kept.

``create_app(read_cache=False)`` (or ``app.state.read_cache = None``) turns the cache off;
stores that cannot tell their version (in memory, on a caller's engine, with read replicas)
are never cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_ENTRIES = 4096
"""Answers kept at most (per app, i.e. per server process)."""

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Bytes of answers kept at most (bodies and headers); 64 MiB."""


@dataclass(frozen=True, slots=True)
class Cached:
    """One kept answer.

    Attributes:
        store: the store it was read from (a key names the store by ``id``; this confirms it).
        version: the data's version it was read at.
        body: the body (for a listing: its ``data`` array only, see ``fast_reads``).
        headers: the response's raw headers (empty for a listing).
        extra: what else the route needs to answer (a listing's page counts and cursor).
    """

    store: object
    version: Hashable
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()
    extra: Any = None

    @property
    def size(self) -> int:
        """Bytes it holds, roughly (body and headers)."""
        return len(self.body) + sum(len(name) + len(value) for name, value in self.headers)


class ReadCache:
    """Answers by key, each valid only at the data version it was read at; LRU-bounded.

    Thread-safe (a lock around each operation): an app may serve from several event loops.

    Args:
        max_entries: answers kept at most.
        max_bytes: bytes kept at most (see :attr:`Cached.size`).
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("a read cache keeps at least one entry and one byte")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, Cached] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        """Answers served from the cache."""
        self.misses = 0
        """Lookups that found nothing valid (then the route read the database)."""

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """Bytes held now."""
        return self._bytes

    def get(self, key: Hashable, store: object, version: Hashable) -> Cached | None:
        """The answer kept under ``key`` if it was read from ``store`` at ``version``; an entry
        read at another version is dropped."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                if found.store is store and found.version == version:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return found
                del self._entries[key]
                self._bytes -= found.size
            self.misses += 1
            return None

    def put(self, key: Hashable, entry: Cached) -> None:
        """Keep ``entry`` under ``key`` (replacing what was there), evicting the least recently
        used answers beyond the bounds; an entry over an eighth of ``max_bytes`` is not kept."""
        size = entry.size
        if size * 8 > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._entries[key] = entry
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _key, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size

    def clear(self) -> None:
        """Drop every answer."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
