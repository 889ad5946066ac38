"""The export format line by line: header, session lines, and errors that name the line."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from transfer_data import mixed_sessions

from sessiondb.db._tracking import encode_run
from sessiondb.db.transfer import ExportedSession, ExportFilter
from sessiondb.transfer.format import (
    FORMAT,
    FORMAT_VERSION,
    MalformedLine,
    check_header,
    comparable,
    decode_session,
    header_line,
    session_line,
)


def _exported(index: int = 0) -> ExportedSession:
    session = mixed_sessions()[index]
    texts = [encode_run(run) for run in session.runs or []]
    session.runs = None
    return ExportedSession(session, texts)


def test_header_names_format_version_exporter_time_and_filters() -> None:
    at = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    line = header_line(ExportFilter(user_id="u1", session_ids=("a",)), exported_by="9.9", now=at)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    header = check_header(line)
    assert header == {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_by": "sessiondb 9.9",
        "exported_at": "2026-01-02T03:04:05+00:00",
        "filters": {"user_id": "u1", "session_ids": ["a"]},
    }


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json", "the header is not JSON"),
        (b'{"session_id": "s"}', "not a sessiondb export"),
        (b"[]", "not a sessiondb export"),
        (b'{"format": "sessiondb-export", "format_version": 99}', "format_version 99"),
        (b'{"format": "sessiondb-export", "format_version": true}', "format_version True"),
    ],
)
def test_a_bad_header_is_line_1(line: bytes, message: str) -> None:
    with pytest.raises(MalformedLine, match=message) as caught:
        check_header(line)
    assert caught.value.line == 1
    assert str(caught.value).startswith("line 1: ")


def test_a_session_line_round_trips_with_its_runs() -> None:
    for index in (0, 3, 6, 7):  # agent sessions, the team, the workflow
        exported = _exported(index)
        line = session_line(exported)
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        record = orjson.loads(line)
        assert record["session_type"] == exported.session.session_type
        assert record["runs"] == [orjson.loads(text) for text in exported.runs]
        session = decode_session(5, line)
        assert comparable(session) == comparable(mixed_sessions()[index])


def test_stored_run_text_is_embedded_as_it_is() -> None:
    exported = _exported()
    # Same JSON, other spacing: had it been decoded and encoded again, the spacing would be gone.
    exported.runs[0] = exported.runs[0].replace('"run_id":', '"run_id":   ')
    assert b'"run_id":   ' in session_line(exported)


def test_a_stored_text_with_a_raw_newline_stays_on_one_line() -> None:
    exported = _exported()
    exported.runs[0] = exported.runs[0].replace('"run_id":', '\n"run_id":')
    line = session_line(exported)
    assert line.count(b"\n") == 1
    assert orjson.loads(line)["runs"][0] == orjson.loads(exported.runs[0])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"{oops", "not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"session_type": "agent"}', "session_id must be a non-empty string"),
        (b'{"session_id": "", "session_type": "agent"}', "session_id must be a non-empty string"),
        (b'{"session_id": 5, "session_type": "agent"}', "session_id must be a non-empty string"),
        (b'{"session_id": "s", "session_type": "robot"}', "session 's': session_type must be one of"),
        (b'{"session_id": "s", "session_type": "agent", "runs": {}}', "runs must be a list"),
        (b'{"session_id": "s", "session_type": "agent", "runs": [{"x": 1}]}', "runs must be a list"),
        (b'{"session_id": "s", "session_type": "agent", "metadata": 7}', "session 's': metadata"),
        (
            b'{"session_id": "s", "session_type": "agent", "runs": [{"run_id": "r", "status": []}]}',
            "session 's'",
        ),
    ],
)
def test_a_malformed_session_line_names_its_line(line: bytes, message: str) -> None:
    with pytest.raises(MalformedLine, match=message) as caught:
        decode_session(42, line)
    assert caught.value.line == 42
    assert str(caught.value).startswith("line 42: ")


def test_a_line_without_runs_is_a_session_without_runs() -> None:
    session = decode_session(2, b'{"session_id": "s", "session_type": "team"}')
    assert session.session_type == "team" and session.runs == []
