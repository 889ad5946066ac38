"""Importing sessions into a store in batches, whatever they come from (a file, a request, a store).

:class:`Importer` takes sessions one at a time and writes them in batches with the store's bulk
path (:meth:`~sessiondb.db.base.SessionStore.upsert_sessions`: one transaction per batch,
PostgreSQL ``COPY`` for the runs of new sessions), so memory holds one batch, never the whole
input. Before writing a batch it reads which of its sessions are stored already and acts on
each by the conflict policy; a session stored exactly as it arrives is never written again, so
importing the same data twice changes nothing.

It does no I/O of its own besides the store calls in :meth:`Importer.flush`, which the caller
may run where it likes (the HTTP route runs it in a worker thread).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import orjson

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import InvalidQuery, SessionOwnedByAnotherUser, StoreError
from sessiondb.db.transfer import ExportedSession, ExportFilter
from sessiondb.session import Session
from sessiondb.session._runs import collector_paused
from sessiondb.transfer.format import (
    MalformedLine,
    check_header,
    comparable,
    decode_session,
    stored_comparable,
)

OnConflict = Literal["skip", "replace", "fail"]
ON_CONFLICT: tuple[str, ...] = ("skip", "replace", "fail")

BATCH_RUNS = 2_000
"""Runs per written batch: the size the bulk path was measured and tuned at (100 sessions of 20 runs)."""

BATCH_SESSIONS = 200
"""Sessions per written batch, for sessions with few runs."""


class ImportConflict(ValueError):
    """``on_conflict="fail"`` and a session of the input is stored already; nothing of it was written.

    Attributes:
        line: the 1-based line (or position) of the session in the input.
        session_id: the stored session.
    """

    def __init__(self, line: int, session_id: str) -> None:
        super().__init__(f"line {line}: session {session_id!r} is stored already (on_conflict='fail')")
        self.line = line
        self.session_id = session_id


class ImportFailed(Exception):
    """An import stopped; what it wrote before stopping stays written.

    Attributes:
        line: the input line that stopped it, when one did.
        report: what was imported before it stopped.
    """

    def __init__(self, error: Exception, report: ImportReport) -> None:
        super().__init__(str(error))
        self.line: int | None = getattr(error, "line", None)
        self.report = report


@dataclass
class ImportReport:
    """What an import did so far.

    Attributes:
        created: sessions that were not stored and now are.
        replaced: stored sessions overwritten by a different version (``on_conflict="replace"``).
        unchanged: stored sessions that arrived exactly as stored (nothing written).
        skipped: stored sessions left as they were (``on_conflict="skip"``).
        runs_written: runs of the created and replaced sessions.
    """

    created: int = 0
    replaced: int = 0
    unchanged: int = 0
    skipped: int = 0
    runs_written: int = 0

    @property
    def sessions_read(self) -> int:
        """Sessions read from the input and settled (written, skipped or unchanged)."""
        return self.created + self.replaced + self.unchanged + self.skipped

    def as_dict(self) -> dict[str, int]:
        """The counts by name."""
        return {
            "sessions_read": self.sessions_read,
            "created": self.created,
            "replaced": self.replaced,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "runs_written": self.runs_written,
        }


@dataclass
class Importer:
    """Writes sessions to ``store`` in batches by the conflict policy.

    Args:
        store: where to write.
        on_conflict: for a session stored already: ``"skip"`` it, ``"replace"`` it (the stored
            session becomes the one imported, runs included), or ``"fail"``. Under every
            policy a session stored exactly as imported is left alone. A replace is the
            batch's upsert, then the deletion of the stored runs the import lacks: if it stops
            in between, those runs stay until the import is run again.
        on_batch: called with the report after each written batch (progress).
    """

    store: SessionStore
    on_conflict: OnConflict = "skip"
    on_batch: Callable[[ImportReport], None] | None = None
    report: ImportReport = field(default_factory=ImportReport)
    _pending: list[tuple[int, Session]] = field(default_factory=list)
    _pending_runs: int = 0

    def __post_init__(self) -> None:
        if self.on_conflict not in ON_CONFLICT:
            raise InvalidQuery("on_conflict", f"must be one of {ON_CONFLICT}, not {self.on_conflict!r}")

    def add(self, line: int, session: Session) -> bool:
        """Queue ``session`` (from input line ``line``); True when a batch is ready for :meth:`flush`."""
        self._pending.append((line, session))
        self._pending_runs += len(session.runs or ())
        return self._pending_runs >= BATCH_RUNS or len(self._pending) >= BATCH_SESSIONS

    def add_line(self, line: int, text: bytes | str) -> bool:
        """Decode a session line of the format and queue it (see :meth:`add`).

        Raises:
            MalformedLine: the line cannot be read.
        """
        return self.add(line, decode_session(line, text))

    def flush(self) -> None:
        """Write the queued sessions (one bulk write), then forget them.

        Raises:
            ImportConflict: ``on_conflict="fail"`` and one is stored already; nothing of the
                batch was written.
            MalformedLine: the store refused one session (its line is named); the sessions
                before it in the batch were written, none after it.
            StoreError: the store failed otherwise.
        """
        batch, self._pending, self._pending_runs = self._pending, [], 0
        if not batch:
            return
        ids = list(dict.fromkeys(session.session_id for _, session in batch))
        stored = {
            exported.session.session_id: exported
            for exported in self.store.export_sessions(ExportFilter(session_ids=ids), limit=len(ids))
        }
        to_write: list[tuple[int, Session, ExportedSession | None]] = []
        for line, session in batch:
            before = stored.get(session.session_id)
            if before is None:
                to_write.append((line, session, None))
            elif stored_comparable(before) == comparable(session):
                self.report.unchanged += 1
            elif self.on_conflict == "skip":
                self.report.skipped += 1
            elif self.on_conflict == "fail":
                raise ImportConflict(line, session.session_id)
            else:
                to_write.append((line, session, before))
        self._write(to_write)
        if self.on_batch is not None:
            self.on_batch(self.report)

    def _write(self, batch: list[tuple[int, Session, ExportedSession | None]]) -> None:
        if not batch:
            return
        try:
            # An imported session keeps the updated_at it was exported with.
            self.store.upsert_sessions([session for _, session, _ in batch], preserve_updated_at=True)
        except (InvalidQuery, SessionOwnedByAnotherUser):
            # The batch is all or nothing: write it one session at a time to name the culprit.
            for line, session, before in batch:
                try:
                    self.store.upsert_sessions([session], preserve_updated_at=True)
                except (InvalidQuery, SessionOwnedByAnotherUser) as error:
                    raise MalformedLine(
                        line, f"session {session.session_id!r} was refused: {error}"
                    ) from error
                self._count(session, before)
            return
        for _, session, before in batch:
            self._count(session, before)

    def _count(self, session: Session, before: ExportedSession | None) -> None:
        self.report.runs_written += len(session.runs or ())
        if before is None:
            self.report.created += 1
            return
        self.report.replaced += 1
        # An upsert keeps stored runs the new version lacks; a replace removes them.
        kept = {run.run_id for run in session.runs or ()}
        for stale in _stale_runs(before, kept):
            self.store.delete_run(stale, session_id=session.session_id)

    def finish(self) -> ImportReport:
        """Write what is still queued; the final report."""
        self.flush()
        return self.report


def _stale_runs(before: ExportedSession, kept: set[str]) -> list[str]:
    ids = [orjson.loads(text).get("run_id") for text in before.runs]
    return [run_id for run_id in ids if isinstance(run_id, str) and run_id not in kept]


def import_lines(
    store: SessionStore,
    lines: Iterable[bytes],
    *,
    on_conflict: OnConflict = "skip",
    on_batch: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import an export, given as its lines (header first), into ``store``.

    Streaming: one batch in memory at a time. At a malformed line the sessions before it are
    written, that one and those after it are not.

    Raises:
        ImportFailed: the header or a session line cannot be read or was refused
            (:class:`MalformedLine`), ``on_conflict="fail"`` met a stored session
            (:class:`ImportConflict`), or the store failed; the error's message says which,
            and its ``report`` what was imported before.
    """
    importer = Importer(store, on_conflict, on_batch)
    numbered = enumerate(lines, start=1)
    try:
        for _, header in itertools.islice(numbered, 1):
            check_header(header)
        while _import_batch(importer, numbered):
            pass
        importer.finish()
    except (MalformedLine, ImportConflict, StoreError) as error:
        if isinstance(error, MalformedLine):
            # The sessions read before the bad line are complete: they are written.
            importer.flush()
        raise ImportFailed(error, importer.report) from error
    return importer.report


def _import_batch(importer: Importer, numbered: Iterator[tuple[int, bytes]]) -> bool:
    """Read lines until a batch is ready and write it; False when the lines ran out first.

    The cyclic garbage collector is paused meanwhile (it runs again between batches): every
    object decoded then survives until its batch is written, so the collections its
    allocations trigger free nothing, and each full one walks the whole batch. Measured on
    10,000 runs into PostgreSQL: decoding took 0.45-0.8 s with the collector on, ~0.2 s paused.
    """
    with collector_paused(1, threshold=1):
        for number, line in numbered:
            if line.strip() and importer.add_line(number, line):
                importer.flush()
                return True
    return False


def import_sessions(
    store: SessionStore,
    sessions: Iterable[Session],
    *,
    on_conflict: OnConflict = "skip",
    on_batch: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import session objects (with their runs) into ``store``, in batches (see :class:`Importer`).

    Raises:
        ImportFailed: as :func:`import_lines`; a position is the session's place in ``sessions``
            (1-based).
    """
    importer = Importer(store, on_conflict, on_batch)
    try:
        for position, session in enumerate(sessions, start=1):
            if importer.add(position, session):
                importer.flush()
        importer.finish()
    except (MalformedLine, ImportConflict, StoreError) as error:
        raise ImportFailed(error, importer.report) from error
    return importer.report
