"""``sessiondb export``, ``import`` and ``copy``: take sessions out, bring them in, move them.

The format is :mod:`sessiondb.transfer.format` (JSON Lines, gzip when the file name ends in
``.gz``). Progress is drawn on stderr when it is a terminal; the counts are printed at the end.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, cast

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from sessiondb.api.serve import DEFAULT_DB
from sessiondb.cli._common import DbOption, JsonOption, errors, fail, open_store, print_json
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import StoreError
from sessiondb.db.transfer import ExportFilter
from sessiondb.transfer.agno import DEFAULT_TABLE, AgnoSourceError, agno_sessions
from sessiondb.transfer.copy import CopyMismatch, copy_sessions
from sessiondb.transfer.exporter import export_lines, open_input, open_output
from sessiondb.transfer.importer import (
    ON_CONFLICT,
    ImportFailed,
    ImportReport,
    OnConflict,
    import_lines,
    import_sessions,
)

ProgressCallback = Callable[[ImportReport], None] | None

UserIdOption = Annotated[str | None, typer.Option("--user-id", help="Only this user's sessions")]
TypeOption = Annotated[
    str | None, typer.Option("--type", help="Only sessions of this type: agent, team or workflow")
]
ComponentOption = Annotated[
    str | None, typer.Option("--component-id", help="Only this agent's, team's or workflow's")
]
SinceOption = Annotated[
    str | None,
    typer.Option("--since", help="Only sessions updated at or after this (ISO date/time or unix seconds)"),
]
UntilOption = Annotated[
    str | None,
    typer.Option("--until", help="Only sessions updated before this (ISO date/time or unix seconds)"),
]
OnConflictOption = Annotated[
    str,
    typer.Option("--on-conflict", help="For a session stored already (and different): skip, replace or fail"),
]


def parse_time(value: str | None, option: str) -> int | None:
    """Unix seconds from ``value``: an integer, or an ISO date or date-time (UTC unless it says).

    Raises:
        typer.Exit: the value is neither (a one-line error naming ``option``).
    """
    if value is None:
        return None
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: expected unix seconds or an ISO date/time, not {value!r}", 2) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


def _filter(
    user_id: str | None,
    session_type: str | None,
    component_id: str | None,
    since: str | None,
    until: str | None,
) -> ExportFilter:
    try:
        return ExportFilter(
            user_id=user_id,
            session_type=session_type,  # type: ignore[arg-type]  # checked by ExportFilter
            component_id=component_id,
            updated_since=parse_time(since, "--since"),
            updated_until=parse_time(until, "--until"),
        )
    except StoreError as error:
        raise fail(str(error), 2) from error


@contextmanager
def _progress(label: str) -> Iterator[ProgressCallback]:
    """A callback drawing import progress on a terminal; ``None`` when stderr is not one."""
    if not errors.is_terminal:
        yield None
        return
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=errors, transient=True
    ) as progress:
        task = progress.add_task(label)

        def update(report: ImportReport) -> None:
            progress.update(
                task,
                description=f"{label}: {report.sessions_read} sessions, {report.runs_written} runs written",
            )

        yield update


def _print_report(report: ImportReport, as_json: bool, **extra: int) -> None:
    if as_json:
        print_json({**report.as_dict(), **extra})
        return
    parts = [f"{count} {name.replace('_', ' ')}" for name, count in {**report.as_dict(), **extra}.items()]
    # Plain echo: a console would wrap the line at the terminal's width.
    typer.echo(", ".join(parts))


def export(
    db: DbOption = DEFAULT_DB,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (gzip if it ends in .gz); stdout if left out"),
    ] = None,
    user_id: UserIdOption = None,
    session_type: TypeOption = None,
    component_id: ComponentOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
) -> None:
    """Export sessions with all their runs as JSON Lines (see docs/export-format.md)."""
    filter = _filter(user_id, session_type, component_id, since, until)
    counts = [0, 0]

    def count(sessions: int, runs: int) -> None:
        counts[0] += sessions
        counts[1] += runs

    with open_store(db) as store:
        lines = export_lines(store, filter, on_page=count)
        if output is None:
            sink = sys.stdout.buffer
            for chunk in lines:
                sink.write(chunk)
            sink.flush()
        else:
            try:
                with open_output(output) as sink:
                    for chunk in lines:
                        sink.write(chunk)
            except OSError as error:
                raise fail(f"cannot write {str(output)!r}: {error.strerror or error}") from error
    errors.print(f"exported {counts[0]} sessions, {counts[1]} runs", highlight=False)


def import_(
    file: Annotated[Path | None, typer.Argument(help="An export file (.gz: gzip); - for stdin")] = None,
    db: DbOption = DEFAULT_DB,
    on_conflict: OnConflictOption = "skip",
    from_agno: Annotated[
        str | None,
        typer.Option("--from-agno", help="Import an Agno database (SQLite path or URL) instead of a file"),
    ] = None,
    table: Annotated[
        str, typer.Option("--table", help="The Agno sessions table (with --from-agno)")
    ] = DEFAULT_TABLE,
    as_json: JsonOption = False,
) -> None:
    """Import an export file, or a whole Agno database, into a store. Repeating it changes nothing."""
    if on_conflict not in ON_CONFLICT:
        raise fail(f"--on-conflict must be one of {', '.join(ON_CONFLICT)}, not {on_conflict!r}", 2)
    policy = cast(OnConflict, on_conflict)
    if (file is None) == (from_agno is None):
        raise fail("give either an export FILE or --from-agno URL", 2)
    with open_store(db, create=True) as store, _progress("importing") as progress:
        try:
            if from_agno is not None:
                sessions = agno_sessions(from_agno, table=table)
                report = import_sessions(store, sessions, on_conflict=policy, on_batch=progress)
            else:
                assert file is not None  # one of the two, checked above
                report = _import_file(store, file, policy, progress)
        except ImportFailed as error:
            done = error.report
            raise fail(f"{error} ({done.created + done.replaced} sessions imported before it)") from error
        except AgnoSourceError as error:
            raise fail(str(error)) from error
    _print_report(report, as_json)


def _import_file(
    store: SessionStore, file: Path, on_conflict: OnConflict, progress: ProgressCallback
) -> ImportReport:
    try:
        source: IO[bytes] = sys.stdin.buffer if str(file) == "-" else open_input(file)
    except OSError as error:
        raise fail(f"cannot read {str(file)!r}: {error.strerror or error}") from error
    try:
        return import_lines(store, source, on_conflict=on_conflict, on_batch=progress)
    except (OSError, EOFError) as error:  # a truncated or corrupt gzip file
        raise fail(f"cannot read {str(file)!r}: {error}") from error
    finally:
        source.close()


def copy(
    source: Annotated[str, typer.Option("--from", help="The database to copy from")],
    target: Annotated[str, typer.Option("--to", help="The database to copy to")],
    user_id: UserIdOption = None,
    session_type: TypeOption = None,
    component_id: ComponentOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    as_json: JsonOption = False,
) -> None:
    """Copy sessions between databases (SQLite ↔ PostgreSQL). Rerun to resume; counts are checked."""
    filter = _filter(user_id, session_type, component_id, since, until)
    with (
        open_store(source) as origin,
        open_store(target, create=True) as destination,
        _progress("copying") as progress,
    ):
        try:
            result = copy_sessions(origin, destination, filter, on_batch=progress)
        except ImportFailed as error:
            raise fail(str(error)) from error
        except CopyMismatch as error:
            raise fail(f"copy check failed: {error}") from error
    _print_report(result.imported, as_json, verified_sessions=result.sessions, verified_runs=result.runs)
