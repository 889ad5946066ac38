"""A minimal server-sent-events reader over ``httpx`` for the change feed tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson


@dataclass(frozen=True)
class Event:
    """One event of ``GET /changes``."""

    id: int
    event: str
    data: dict[str, Any]


class Feed:
    """An open ``GET /changes`` stream; :meth:`next` reads events one by one (bounded by the read timeout)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()

    def next(self) -> Event:
        """The next event (comment lines and ``retry:`` skipped)."""
        fields: dict[str, str] = {}
        for line in self._lines:
            if line == "":
                if "id" in fields:
                    return Event(int(fields["id"]), fields["event"], orjson.loads(fields["data"]))
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        raise EOFError("the stream ended")

    def take(self, count: int) -> list[Event]:
        """The next ``count`` events."""
        return [self.next() for _ in range(count)]

    def rest(self) -> list[str]:
        """Every line left until the stream ends."""
        return list(self._lines)


@contextmanager
def open_feed(
    base_url: str,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    read_s: float = 5,
) -> Iterator[Feed]:
    """Connect to ``GET /changes``; leaving the block disconnects."""
    timeout = httpx.Timeout(5, read=read_s)
    with httpx.stream(
        "GET", f"{base_url}/changes", headers=headers, params=params, timeout=timeout
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Feed(response)
