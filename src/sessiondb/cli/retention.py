"""``sessiondb retention`` and ``sessiondb purge``: apply a retention policy, empty the trash.

sessiondb retention --db URL --inactive-for 30d --dry-run --json   # what would go, and which
sessiondb retention --db URL --older-than 90d --type agent         # delete them, in batches
sessiondb retention --db URL --older-than 90d --soft-delete 7d     # into the trash instead
sessiondb purge --db URL --soft-delete 7d                          # empty what is past 7 days
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import typer

from sessiondb.api.serve import DEFAULT_DB
from sessiondb.cli._common import DbOption, JsonOption, TableOption, console, fail, open_store, print_json
from sessiondb.db.changes import DEFAULT_CHANGES_WINDOW
from sessiondb.db.query import SQL_INT_MAX
from sessiondb.db.retention import RetentionPolicy, parse_duration


def _duration(text: str | None, flag: str) -> timedelta | None:
    if text is None:
        return None
    try:
        return parse_duration(text, name=flag)
    except ValueError as exc:
        raise fail(str(exc), 2) from exc


def _policy(
    older_than: str | None,
    inactive_for: str | None,
    user_id: str | None,
    session_type: str | None,
    component_id: str | None,
    hard: bool,
) -> RetentionPolicy:
    if (older_than is None) == (inactive_for is None):
        raise fail("give exactly one of --older-than and --inactive-for (e.g. --inactive-for 30d)", 2)
    try:
        return RetentionPolicy(
            older_than=_duration(older_than, "--older-than"),
            inactive_for=_duration(inactive_for, "--inactive-for"),
            user_id=user_id,
            session_type=session_type,  # type: ignore[arg-type]  # checked by RetentionPolicy
            component_id=component_id,
            hard=hard,
        )
    except ValueError as exc:
        raise fail(str(exc).replace("session_type", "--type"), 2) from exc


def retention(
    db: DbOption = DEFAULT_DB,
    table: TableOption = None,
    older_than: Annotated[
        str | None, typer.Option(help="Remove sessions created longer ago than this (e.g. 90d)")
    ] = None,
    inactive_for: Annotated[
        str | None, typer.Option(help="Remove sessions not updated for this long (e.g. 30d)")
    ] = None,
    user_id: Annotated[str | None, typer.Option("--user-id", help="Only this user's sessions")] = None,
    session_type: Annotated[
        str | None, typer.Option("--type", help="Only agent, team or workflow sessions")
    ] = None,
    component_id: Annotated[
        str | None, typer.Option("--component-id", help="Only this agent, team or workflow id")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count (and list) what would go")] = False,
    soft_delete: Annotated[
        str | None,
        typer.Option(help="Move sessions to the trash for this long (e.g. 7d) instead of deleting them"),
    ] = None,
    hard: Annotated[bool, typer.Option("--hard", help="Delete for good even with --soft-delete")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="Sessions per transaction")] = 500,
    as_json: JsonOption = False,
) -> None:
    """Remove the sessions a retention policy selects (docs/retention.md).

    Like every command that reads or deletes, it creates nothing: the database and its tables
    must exist (``--dry-run`` included).
    """
    policy = _policy(older_than, inactive_for, user_id, session_type, component_id, hard)
    grace = _duration(soft_delete, "--soft-delete")
    with open_store(db, table, soft_delete=grace) as store:
        if dry_run:
            preview = store.preview_retention(policy, limit=SQL_INT_MAX if as_json else 0)
            if as_json:
                print_json(
                    {
                        "dry_run": True,
                        "sessions": preview.sessions,
                        "runs": preview.runs,
                        "session_ids": preview.session_ids,
                    }
                )
            else:
                console.print(
                    f"would remove {preview.sessions} sessions ({preview.runs} runs)", highlight=False
                )
            return
        report = store.apply_retention(policy, batch_size=batch_size)
    if as_json:
        print_json({"dry_run": False, "sessions": report.sessions, "runs": report.runs, "soft": report.soft})
        return
    done = "moved to the trash" if report.soft else "deleted"
    console.print(f"{done} {report.sessions} sessions ({report.runs} runs)", highlight=False)


def purge(
    db: DbOption = DEFAULT_DB,
    table: TableOption = None,
    soft_delete: Annotated[
        str | None,
        typer.Option(help="The trash's grace period (e.g. 7d): sessions deleted longer ago are purged"),
    ] = None,
    changes_window: Annotated[
        str | None, typer.Option(help="Prune the change feed's changes older than this (default 7d)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Empty the trash of what is past its grace period, and prune old changes."""
    options: dict[str, Any] = {
        "soft_delete": _duration(soft_delete, "--soft-delete"),
        "changes_window": _duration(changes_window, "--changes-window") or DEFAULT_CHANGES_WINDOW,
    }
    with open_store(db, table, **options) as store:
        report = store.purge()
    if as_json:
        print_json({"sessions": report.sessions, "runs": report.runs, "changes": report.changes})
        return
    if soft_delete is None:
        console.print("no --soft-delete given: the trash was left as it is", highlight=False)
    console.print(
        f"purged {report.sessions} sessions ({report.runs} runs) and {report.changes} changes",
        highlight=False,
    )
