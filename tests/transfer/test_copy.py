"""``copy_sessions``: backend to backend, resumable after an interruption, counts checked."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path

import pytest
from transfer_data import all_answers, mixed_sessions

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import StoreUnavailable
from sessiondb.db.transfer import ExportFilter
from sessiondb.session import Session
from sessiondb.transfer import importer as importer_module
from sessiondb.transfer.copy import CopyMismatch, copy_sessions, verify_copy
from sessiondb.transfer.importer import ImportFailed
from store_backends import BACKENDS

PAIRS = [
    pytest.param(("sqlite", "postgres"), marks=pytest.mark.postgres, id="sqlite-to-postgres"),
    pytest.param(("postgres", "sqlite"), marks=pytest.mark.postgres, id="postgres-to-sqlite"),
]


@pytest.fixture(params=PAIRS)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SessionStore, SessionStore]]:
    source_kind, target_kind = request.param
    with ExitStack() as stack:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        yield (
            stack.enter_context(BACKENDS[source_kind](tmp_path / "a")),
            stack.enter_context(BACKENDS[target_kind](tmp_path / "b")),
        )


def test_copy_moves_every_session_and_checks_the_counts(pair: tuple[SessionStore, SessionStore]) -> None:
    source, target = pair
    sessions = mixed_sessions()
    source.upsert_sessions(sessions)
    result = copy_sessions(source, target, ExportFilter())
    runs = sum(len(session.runs or []) for session in sessions)
    assert (result.sessions, result.runs) == (len(sessions), runs)
    assert (result.imported.created, result.imported.runs_written) == (len(sessions), runs)
    ids = [session.session_id for session in sessions]
    assert all_answers(target, ids) == all_answers(source, ids)


def test_copy_takes_only_the_filtered_sessions(pair: tuple[SessionStore, SessionStore]) -> None:
    source, target = pair
    source.upsert_sessions(mixed_sessions())
    result = copy_sessions(source, target, ExportFilter(user_id="user-1"))
    copied = [e.session.session_id for e in target.export_sessions(ExportFilter(), limit=100)]
    assert copied == ["agent-001", "agent-003", "agent-005", "workflow-000"]
    assert result.sessions == 4


class _FailingAfter:
    """Wraps a store so that its ``upsert_sessions`` fails after ``allowed`` calls (a crash)."""

    def __init__(self, store: SessionStore, allowed: int) -> None:
        self.store = store
        self.allowed = allowed

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    def upsert_sessions(self, sessions: Sequence[Session], **options: bool) -> list[Session]:
        if self.allowed == 0:
            raise StoreUnavailable("connection lost")
        self.allowed -= 1
        return self.store.upsert_sessions(sessions, **options)


def test_an_interrupted_copy_resumes_where_it_stopped(
    pair: tuple[SessionStore, SessionStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = pair
    monkeypatch.setattr(importer_module, "BATCH_SESSIONS", 3)
    sessions = mixed_sessions()
    source.upsert_sessions(sessions)
    with pytest.raises(ImportFailed, match="connection lost") as caught:
        copy_sessions(source, _FailingAfter(target, 1), ExportFilter())  # type: ignore[arg-type]
    assert caught.value.report.created == 3
    # A session changed at the source after the interruption is copied in its new version.
    source.update_session("agent-000", session_state={"step": "moved on"})
    result = copy_sessions(source, target, ExportFilter())
    assert (result.imported.unchanged, result.imported.replaced, result.imported.created) == (2, 1, 5)
    assert result.sessions == len(sessions)
    assert (target.get_session("agent-000").session_data or {})["session_state"] == {"step": "moved on"}


def test_the_check_names_a_session_missing_from_the_target(pair: tuple[SessionStore, SessionStore]) -> None:
    source, target = pair
    source.upsert_sessions(mixed_sessions())
    copy_sessions(source, target, ExportFilter())
    target.delete_session("agent-004")
    with pytest.raises(CopyMismatch, match="'agent-004' is missing"):
        verify_copy(source, target, ExportFilter())
    target.upsert_session(mixed_sessions()[4])
    target.delete_run("agent-004-r0")
    with pytest.raises(CopyMismatch, match="'agent-004' has 2 runs in the target, 3 in the source"):
        verify_copy(source, target, ExportFilter())
