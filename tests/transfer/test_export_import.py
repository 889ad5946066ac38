"""Export, then import elsewhere: every session answers the same; importing again changes nothing."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson
import pytest
from transfer_data import T0, agent_run, all_answers, mixed_sessions

from sessiondb.db.base import SessionStore
from sessiondb.db.transfer import ExportedSession, ExportFilter
from sessiondb.session import AgentSession
from sessiondb.transfer import exporter as exporter_module
from sessiondb.transfer import importer as importer_module
from sessiondb.transfer.exporter import export_lines, exported_pages, open_input, open_output
from sessiondb.transfer.importer import ImportFailed, import_lines
from store_backends import BACKEND_PARAMS, BACKENDS

PAIRS = [
    pytest.param(("sqlite", "postgres"), marks=pytest.mark.postgres, id="sqlite-to-postgres"),
    pytest.param(("postgres", "sqlite"), marks=pytest.mark.postgres, id="postgres-to-sqlite"),
    pytest.param(("memory", "sqlite"), id="memory-to-sqlite"),
]


@pytest.fixture(params=PAIRS)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SessionStore, SessionStore]]:
    """A source and a target store of two different backends."""
    source_kind, target_kind = request.param
    with ExitStack() as stack:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        yield (
            stack.enter_context(BACKENDS[source_kind](tmp_path / "a")),
            stack.enter_context(BACKENDS[target_kind](tmp_path / "b")),
        )


def _lines(store: SessionStore, filter: ExportFilter | None = None) -> list[bytes]:
    return b"".join(export_lines(store, filter or ExportFilter())).splitlines(keepends=True)


def _versions(store: SessionStore) -> dict[str, tuple[int, int | None]]:
    return {
        e.session.session_id: (store.get_session(e.session.session_id).version, e.session.updated_at)
        for e in store.export_sessions(ExportFilter(), limit=1000)
    }


def test_export_then_import_into_another_backend_answers_the_same(
    pair: tuple[SessionStore, SessionStore],
) -> None:
    source, target = pair
    sessions = mixed_sessions()
    source.upsert_sessions(sessions)
    # A session updated after its creation: its updated_at must travel too.
    source.update_session("agent-002", metadata={"edited": True})
    ids = [session.session_id for session in sessions]
    lines = _lines(source)
    assert orjson.loads(lines[3])["updated_at"] > orjson.loads(lines[3])["created_at"]
    assert len(lines) == 1 + len(sessions)
    report = import_lines(target, lines)
    assert (report.created, report.runs_written) == (len(sessions), sum(len(s.runs or []) for s in sessions))
    assert all_answers(target, ids) == all_answers(source, ids)
    # And the target exports what the source did, updated_at included (header aside; JSONB
    # may reorder keys).
    assert [orjson.loads(line) for line in _lines(target)[1:]] == [orjson.loads(line) for line in lines[1:]]


def test_importing_the_same_export_again_changes_nothing(pair: tuple[SessionStore, SessionStore]) -> None:
    source, target = pair
    source.upsert_sessions(mixed_sessions())
    lines = _lines(source)
    import_lines(target, lines)
    before = _versions(target)
    for policy in ("skip", "replace", "fail"):
        report = import_lines(target, lines, on_conflict=policy)
        assert report.as_dict()["unchanged"] == len(lines) - 1
        assert report.created == report.replaced == report.skipped == report.runs_written == 0
    assert _versions(target) == before


@pytest.fixture(params=BACKEND_PARAMS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    with BACKENDS[request.param](tmp_path) as store:
        yield store


def _changed_export(target: SessionStore) -> list[bytes]:
    """An export of the mixed sessions in which agent-001 has a new state and lost a run."""
    sessions = mixed_sessions()
    target.upsert_sessions(sessions)
    lines = _lines(target)
    record = orjson.loads(lines[2])
    assert record["session_id"] == "agent-001"
    record["session_data"]["session_state"] = {"step": "changed"}
    record["runs"] = record["runs"][1:]
    lines[2] = orjson.dumps(record) + b"\n"
    return lines


def test_on_conflict_skip_keeps_the_stored_session(target: SessionStore) -> None:
    lines = _changed_export(target)
    report = import_lines(target, lines, on_conflict="skip")
    assert (report.skipped, report.unchanged, report.created) == (1, len(lines) - 2, 0)
    assert (target.get_session("agent-001").session_data or {})["session_state"] == {"step": 1}


def test_on_conflict_replace_makes_the_stored_session_the_imported_one(target: SessionStore) -> None:
    lines = _changed_export(target)
    report = import_lines(target, lines, on_conflict="replace")
    assert (report.replaced, report.unchanged) == (1, len(lines) - 2)
    stored = target.get_session("agent-001")
    assert (stored.session_data or {})["session_state"] == {"step": "changed"}
    # The run the import lacks is gone too: the stored session is exactly the imported one.
    assert [run.run_id for run in stored.runs or []] == [
        run["run_id"] for run in orjson.loads(lines[2])["runs"]
    ]


def test_on_conflict_fail_stops_and_names_the_line(target: SessionStore) -> None:
    lines = _changed_export(target)
    with pytest.raises(ImportFailed, match=r"line 3: session 'agent-001' is stored already") as caught:
        import_lines(target, lines, on_conflict="fail")
    assert caught.value.line == 3
    assert (target.get_session("agent-001").session_data or {})["session_state"] == {"step": 1}


def test_a_malformed_line_is_named_and_only_the_sessions_before_it_are_written(target: SessionStore) -> None:
    lines = _lines_of(mixed_sessions())
    broken = b'{"session_id": "broken", "session_type": "agent", "runs": [{"run_id": 3}]}\n'
    bad = [*lines[:4], broken, *lines[4:]]
    with pytest.raises(ImportFailed, match=r"^line 5: session 'broken': runs must be") as caught:
        import_lines(target, bad)
    assert caught.value.line == 5
    assert caught.value.report.created == 3
    stored = [e.session.session_id for e in target.export_sessions(ExportFilter(), limit=100)]
    assert stored == ["agent-000", "agent-001", "agent-002"]


def _lines_of(sessions: list[AgentSession] | list[object]) -> list[bytes]:
    from sessiondb.db.memory import InMemoryDb

    memory = InMemoryDb()
    memory.upsert_sessions(sessions)  # type: ignore[arg-type]
    return _lines(memory)


def test_a_refused_session_is_named_and_the_ones_before_it_are_written(
    target: SessionStore,
) -> None:
    owned = AgentSession(session_id="agent-002", user_id="someone-else", created_at=T0)
    target.upsert_session(owned)
    lines = _lines_of(mixed_sessions())
    with pytest.raises(ImportFailed, match=r"^line 4: session 'agent-002' was refused") as caught:
        import_lines(target, lines, on_conflict="replace")
    assert caught.value.report.created == 2
    assert target.get_session("agent-002").user_id == "someone-else"


def test_a_bad_header_writes_nothing(target: SessionStore) -> None:
    lines = _lines_of(mixed_sessions())
    with pytest.raises(ImportFailed, match=r"^line 1: not a sessiondb export"):
        import_lines(target, lines[1:])
    assert target.export_sessions(ExportFilter()) == []


def test_batches_are_written_as_they_fill(target: SessionStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer_module, "BATCH_SESSIONS", 2)
    batches: list[int] = []
    lines = _lines_of(mixed_sessions())
    import_lines(target, lines, on_batch=lambda report: batches.append(report.sessions_read))
    assert batches == [2, 4, 6, 8]


def test_export_reads_page_by_page(target: SessionStore) -> None:
    target.upsert_sessions(mixed_sessions())
    pages = list(exported_pages(target, ExportFilter(), page=3))
    assert [len(page) for page in pages] == [3, 3, 2]


def test_filtered_export(target: SessionStore) -> None:
    target.upsert_sessions(mixed_sessions())
    lines = _lines(target, ExportFilter(user_id="user-1", session_type="agent"))
    assert orjson.loads(lines[0])["filters"] == {"user_id": "user-1", "session_type": "agent"}
    assert [orjson.loads(line)["session_id"] for line in lines[1:]] == ["agent-001", "agent-003", "agent-005"]


def test_gzip_files_round_trip(target: SessionStore, tmp_path: Path) -> None:
    sessions = mixed_sessions()
    target.upsert_sessions(sessions)
    path = tmp_path / "export.jsonl.gz"
    with open_output(path) as sink:
        for chunk in export_lines(target, ExportFilter()):
            sink.write(chunk)
    assert gzip.decompress(path.read_bytes()).startswith(b'{"format":"sessiondb-export"')
    for session in sessions:
        target.delete_session(session.session_id)
    with open_input(path) as source:
        report = import_lines(target, source)
    assert report.created == len(sessions)


def test_a_run_stored_in_another_session_is_refused_by_name(target: SessionStore) -> None:
    first = AgentSession(session_id="agent-000", agent_id="agent-1", created_at=T0)
    first.upsert_run(agent_run("shared-run", "x"))
    other = AgentSession(session_id="zz-holder", agent_id="agent-1", created_at=T0)
    other.upsert_run(agent_run("shared-run", "x"))
    target.upsert_session(other)
    with pytest.raises(ImportFailed, match=r"^line 2: session 'agent-000' was refused"):
        import_lines(target, _lines_of([first]))
    assert [e.session.session_id for e in target.export_sessions(ExportFilter())] == ["zz-holder"]


class _CountingPages:
    """A store wrapper recording the export pages read (to see that an export streams)."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self.pages: list[int] = []

    def export_sessions(self, filter: ExportFilter, **kwargs: Any) -> list[ExportedSession]:
        page = self.store.export_sessions(filter, **kwargs)
        self.pages.append(len(page))
        return page


def test_an_export_reads_a_page_only_when_the_writer_wants_more(
    target: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    target.upsert_sessions(mixed_sessions())
    monkeypatch.setattr(exporter_module, "EXPORT_PAGE", 3)
    counting = _CountingPages(target)
    lines = export_lines(counting, ExportFilter())  # type: ignore[arg-type]
    next(lines)  # the header: nothing read yet
    assert counting.pages == []
    first = next(lines)
    assert counting.pages == [3] and first.count(b"\n") == 3
    rest = list(lines)
    assert counting.pages == [3, 3, 2, 0] and len(rest) == 2
