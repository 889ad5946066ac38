"""Streaming an export out of a store, and the files the format lives in (gzip when ``.gz``)."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, cast

import sessiondb
from sessiondb.db.base import SessionStore
from sessiondb.db.transfer import EXPORT_PAGE, ExportedSession, ExportFilter
from sessiondb.transfer.format import header_line, session_line


def exported_pages(
    store: SessionStore, filter: ExportFilter, *, page: int | None = None
) -> Iterator[list[ExportedSession]]:
    """Every session matching ``filter``, page by page in session-id order (keyset: flat memory).

    Args:
        page: sessions per page; :data:`EXPORT_PAGE` by default.
    """
    page = page or EXPORT_PAGE
    after: str | None = None
    while True:
        found = store.export_sessions(filter, after=after, limit=page)
        if not found:
            return
        yield found
        after = found[-1].session.session_id


def export_lines(
    store: SessionStore,
    filter: ExportFilter,
    *,
    on_page: Callable[[int, int], None] | None = None,
) -> Iterator[bytes]:
    """The lines of an export of ``store``: the header, then one per matching session.

    Args:
        on_page: called with the number of sessions and runs of each page once written.
    """
    yield header_line(filter, exported_by=sessiondb.__version__)
    for found in exported_pages(store, filter):
        # One bytes object per page: a write per session costs more than its encoding.
        yield b"".join(session_line(exported) for exported in found)
        if on_page is not None:
            on_page(len(found), sum(len(exported.runs) for exported in found))


def open_output(path: Path) -> IO[bytes]:
    """``path`` opened for writing, gzip-compressed when its name ends in ``.gz``."""
    if path.name.endswith(".gz"):
        # Level 6 (zlib's default) rather than gzip's 9: ~3x faster for a few % in size.
        return cast(IO[bytes], gzip.open(path, "wb", compresslevel=6))
    return path.open("wb")


def open_input(path: Path) -> IO[bytes]:
    """``path`` opened for reading, gunzipped when its name ends in ``.gz``."""
    if path.name.endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")
