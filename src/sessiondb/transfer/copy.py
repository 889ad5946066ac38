"""Copying sessions from one store to another (SQLite ↔ PostgreSQL), resumably, then checking.

The copy reads the source in keyset pages (:func:`~sessiondb.transfer.exporter.exported_pages`)
and writes each through an :class:`~sessiondb.transfer.importer.Importer` with
``on_conflict="replace"``: a session already copied exactly is left alone, one changed at the
source since is replaced. So a copy that was interrupted is resumed by running it again: it
passes over what is there (reading, not writing it) and writes the rest. At the end it checks,
page by page, that every matching source session is in the target with as many runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import StoreError
from sessiondb.db.transfer import ExportFilter
from sessiondb.session._runs import collector_paused
from sessiondb.transfer.exporter import exported_pages
from sessiondb.transfer.format import MalformedLine, decode_session, session_line
from sessiondb.transfer.importer import ImportConflict, Importer, ImportFailed, ImportReport


class CopyMismatch(RuntimeError):
    """After a copy, the target does not hold what the source does (named in the message)."""


@dataclass(frozen=True)
class CopyReport:
    """What a copy did and found.

    Attributes:
        imported: the writes (created, replaced, unchanged).
        sessions: matching sessions in the source, all found in the target.
        runs: their runs, as many in the target.
    """

    imported: ImportReport
    sessions: int
    runs: int


def copy_sessions(
    source: SessionStore,
    target: SessionStore,
    filter: ExportFilter,
    *,
    on_batch: Callable[[ImportReport], None] | None = None,
) -> CopyReport:
    """Copy the sessions matching ``filter`` from ``source`` to ``target`` and check the counts.

    Raises:
        CopyMismatch: the check found a session missing from the target, or with another
            number of runs (something wrote to the target meanwhile).
        ImportFailed: the target refused a session (its position in the source is named), or
            a store failed; what was copied before stays copied.
    """
    importer = Importer(target, "replace", on_batch)
    position = 0
    try:
        for found in exported_pages(source, filter):
            # As an import's batches (see sessiondb.transfer.importer._import_batch): what a
            # page decodes survives until it is written, so collections would free nothing.
            with collector_paused(1, threshold=1):
                for exported in found:
                    position += 1
                    # Through the format's own codec: a copy is exactly an export read back.
                    if importer.add(position, decode_session(position, session_line(exported))):
                        importer.flush()
        report = importer.finish()
    except (MalformedLine, ImportConflict, StoreError) as error:
        raise ImportFailed(error, importer.report) from error
    sessions, runs = verify_copy(source, target, filter)
    return CopyReport(report, sessions, runs)


def verify_copy(source: SessionStore, target: SessionStore, filter: ExportFilter) -> tuple[int, int]:
    """Check that every session matching ``filter`` in ``source`` is in ``target`` with as many runs.

    Returns:
        The number of sessions and of runs checked.

    Raises:
        CopyMismatch: one is missing or has another number of runs.
    """
    sessions = runs = 0
    for found in exported_pages(source, filter):
        ids = [exported.session.session_id for exported in found]
        copied = {
            exported.session.session_id: len(exported.runs)
            for exported in target.export_sessions(ExportFilter(session_ids=ids), limit=len(ids))
        }
        for exported in found:
            session_id = exported.session.session_id
            if session_id not in copied:
                raise CopyMismatch(f"session {session_id!r} is missing from the target")
            if copied[session_id] != len(exported.runs):
                raise CopyMismatch(
                    f"session {session_id!r} has {copied[session_id]} runs in the target, "
                    f"{len(exported.runs)} in the source"
                )
        sessions += len(found)
        runs += sum(len(exported.runs) for exported in found)
    return sessions, runs
