"""An import (and a copy) pauses the cyclic garbage collector while it reads a batch, and only then."""

from __future__ import annotations

import gc

import pytest
from transfer_data import mixed_sessions

from collector_watch import watch_collector
from sessiondb.db.memory import InMemoryDb
from sessiondb.db.transfer import ExportFilter
from sessiondb.session import Session
from sessiondb.transfer import importer as importer_module
from sessiondb.transfer.exporter import export_lines
from sessiondb.transfer.importer import ImportFailed, import_lines


def _export_lines() -> list[bytes]:
    source = InMemoryDb()
    source.upsert_sessions(mixed_sessions())
    return b"".join(export_lines(source, ExportFilter())).splitlines(keepends=True)


@pytest.fixture
def collector_seen(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether the collector was on at each line's decode (batches of two sessions)."""
    monkeypatch.setattr(importer_module, "BATCH_SESSIONS", 2)
    return watch_collector(monkeypatch)


def test_lines_are_decoded_with_the_collector_paused_and_it_runs_again_after(
    collector_seen: list[bool],
) -> None:
    assert gc.isenabled()
    target = InMemoryDb()
    report = import_lines(target, _export_lines())
    assert report.created == len(mixed_sessions())
    assert collector_seen == [False] * len(mixed_sessions())
    assert gc.isenabled()


def test_the_collector_runs_again_when_an_import_fails(collector_seen: list[bool]) -> None:
    lines = _export_lines()
    broken = b'{"session_id": "broken", "session_type": "agent", "runs": [{"run_id": 3}]}\n'
    with pytest.raises(ImportFailed, match="line 4"):
        import_lines(InMemoryDb(), [*lines[:3], broken, *lines[3:]])
    assert collector_seen == [False, False, False]
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_application_stays_off(collector_seen: list[bool]) -> None:
    gc.disable()
    try:
        import_lines(InMemoryDb(), _export_lines())
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_copy_decodes_with_the_collector_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    from sessiondb.transfer import copy as copy_module

    seen: list[bool] = []
    decode = copy_module.decode_session

    def watching(line: int, text: bytes | str) -> Session:
        seen.append(gc.isenabled())
        return decode(line, text)

    monkeypatch.setattr(copy_module, "decode_session", watching)
    source = InMemoryDb()
    source.upsert_sessions(mixed_sessions())
    copy_module.copy_sessions(source, InMemoryDb(), ExportFilter())
    assert seen == [False] * len(mixed_sessions())
    assert gc.isenabled()
