"""The export format, line by line: pure encoding and decoding, no I/O (see docs/export-format.md).

JSON Lines. Line 1 is the header (:func:`header_line`), every later line one session: the
session's own dict (``to_dict(include_runs=False)``), plus ``session_type`` and ``runs``, the
list of its run dicts in the session's order. A run is written as the JSON text the store keeps,
embedded as it is (never decoded and encoded again on the way out).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

import orjson
import pydantic

from sessiondb.db._tracking import encode_json, encode_run, session_fields
from sessiondb.db.query import SESSION_TYPES
from sessiondb.db.transfer import ExportedSession, ExportFilter
from sessiondb.session import SESSION_CLASSES, Session

FORMAT = "sessiondb-export"
"""The header's ``format``: what the file is."""

FORMAT_VERSION = 1
"""The header's ``format_version``. A reader accepts files up to its own version; a change that
an older reader would misread gets a new number."""


class MalformedLine(ValueError):
    """A line of an export that cannot be read; nothing of its session was written.

    Attributes:
        line: the 1-based line number.
    """

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def header_line(filter: ExportFilter, *, exported_by: str, now: dt.datetime | None = None) -> bytes:
    """The first line of an export made with ``filter`` by sessiondb version ``exported_by``."""
    at = now or dt.datetime.now(dt.UTC)
    filters = {name: value for name, value in asdict(filter).items() if value is not None}
    if "session_ids" in filters:
        filters["session_ids"] = list(filters["session_ids"])
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_by": f"sessiondb {exported_by}",
        "exported_at": at.isoformat(),
        "filters": filters,
    }
    return orjson.dumps(header) + b"\n"


def check_header(line: bytes) -> dict[str, Any]:
    """The header of line 1, checked.

    Raises:
        MalformedLine: not a header of this format, or of a newer version than this reader.
    """
    try:
        header = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise MalformedLine(1, f"the header is not JSON: {error}") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise MalformedLine(
            1, f"not a sessiondb export: the first line must be a header with format {FORMAT!r}"
        )
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= FORMAT_VERSION:
        raise MalformedLine(
            1, f"format_version {version!r} is not one this reader knows (1 to {FORMAT_VERSION})"
        )
    return header


def _run_text(text: str) -> orjson.Fragment:
    # A stored text holds no raw newline when the store wrote it (orjson escapes them); one put
    # there by other means is normalised, so that a session stays on one line.
    if "\n" in text or "\r" in text:
        text = orjson.dumps(orjson.loads(text)).decode()
    return orjson.Fragment(text)


def session_line(exported: ExportedSession) -> bytes:
    """One session and its runs as a line of the format (ending in ``\\n``)."""
    session = exported.session
    fields = session_fields(session)
    fields.pop("session_id", None)
    record = {
        "session_id": session.session_id,
        "session_type": session.session_type,
        **fields,
        "runs": [_run_text(text) for text in exported.runs],
    }
    return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS) + b"\n"


def _first_error(error: pydantic.ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def decode_session(line_number: int, line: bytes | str) -> Session:
    """The session (with its runs) a line of the format holds.

    Raises:
        MalformedLine: the line is not JSON, not a session object, or a field has the wrong type.
    """
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise MalformedLine(line_number, f"not JSON: {error}") from error
    if not isinstance(data, dict):
        raise MalformedLine(line_number, "a session line must be a JSON object")
    session_id = data.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        raise MalformedLine(line_number, "session_id must be a non-empty string")
    session_type = data.get("session_type")
    if session_type not in SESSION_TYPES:
        raise MalformedLine(
            line_number, f"session {session_id!r}: session_type must be one of {SESSION_TYPES}"
        )
    runs = data.get("runs")
    if runs is None:
        data["runs"] = []
    elif not isinstance(runs, list) or not all(
        isinstance(run, dict) and isinstance(run.get("run_id"), str) and run["run_id"] for run in runs
    ):
        raise MalformedLine(
            line_number, f"session {session_id!r}: runs must be a list of objects with a run_id"
        )
    try:
        session = SESSION_CLASSES[session_type].from_dict(data)
    except pydantic.ValidationError as error:
        raise MalformedLine(line_number, f"session {session_id!r}: {_first_error(error)}") from error
    assert session is not None  # from_dict refuses only a dict without session_id, checked above
    return session


def comparable(session: Session) -> tuple[Any, list[Any]]:
    """What a store would keep of ``session`` (fields and runs as stored JSON), to compare two.

    ``updated_at`` is left out: a store sets it when it writes.
    """
    fields = orjson.loads(encode_json(session_fields(session)))
    fields.pop("updated_at", None)
    return fields, [orjson.loads(encode_run(run)) for run in session.runs or ()]


def stored_comparable(exported: ExportedSession) -> tuple[Any, list[Any]]:
    """:func:`comparable` of a stored session, from what an export read of it."""
    fields = orjson.loads(encode_json(session_fields(exported.session)))
    fields.pop("updated_at", None)
    return fields, [orjson.loads(text) for text in exported.runs]
