"""``sessiondb sessions list|show|delete``: inspect and delete sessions from a terminal."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.table import Table
from rich.text import Text

from sessiondb.api.serve import DEFAULT_DB
from sessiondb.cli._common import (
    DbOption,
    JsonOption,
    TableOption,
    UserOption,
    console,
    fail,
    open_store,
    print_json,
)
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import SessionNotFound
from sessiondb.db.query import SORT_FIELDS, SessionQuery


def _minutes(iso: str | None) -> str:
    """``2026-12-07T17:51:51Z`` as ``2026-12-07 17:51``: short enough for an 80-column table."""
    return (iso or "")[:16].replace("T", " ")


def list_sessions(
    db: DbOption = DEFAULT_DB,
    table: TableOption = None,
    user: UserOption = None,
    session_type: Annotated[str | None, typer.Option("--type", help="agent, team or workflow")] = None,
    component: Annotated[str | None, typer.Option(help="Agent, team or workflow id")] = None,
    name: Annotated[str | None, typer.Option(help="Part of the session name")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    page: Annotated[int, typer.Option(min=1)] = 1,
    sort_by: Annotated[str, typer.Option(help=f"One of {', '.join(SORT_FIELDS)}")] = "created_at",
    order: Annotated[str, typer.Option(help="asc or desc")] = "desc",
    as_json: JsonOption = False,
) -> None:
    """List sessions, newest first."""
    from sessiondb.api.views import session_list_item

    with open_store(db, table) as store:
        query = SessionQuery(
            session_type=session_type,  # type: ignore[arg-type]  # checked by SessionQuery
            component_id=component,
            user_id=user,
            session_name=name,
            sort_by=sort_by,  # type: ignore[arg-type]
            sort_order=order,  # type: ignore[arg-type]
            page=page,
            limit=limit,
        )
        result = store.get_sessions(query)
    items = [session_list_item(session) for session in result.items]
    if as_json:
        meta = {
            "page": page,
            "limit": limit,
            "total_count": result.total_count,
            "total_pages": result.total_pages,
        }
        print_json({"data": items, "meta": meta})
        return
    listing = Table(
        title=f"Sessions (page {page} of {max(result.total_pages, 1)}, {result.total_count} in all)"
    )
    # Ids are never cut (they are copied into other commands): the session id keeps its width,
    # the component and user ids fold onto more lines; only the name gives way.
    longest_id = max((len(item["session_id"]) for item in items), default=10)
    listing.add_column("session id", no_wrap=True, min_width=longest_id)
    listing.add_column("type", no_wrap=True)
    listing.add_column("name", overflow="ellipsis", no_wrap=True, max_width=24)
    listing.add_column("user", overflow="fold")
    listing.add_column("component", overflow="fold")
    listing.add_column("updated", no_wrap=True)
    for item in items:
        component_id = item.get("agent_id") or item.get("team_id") or item.get("workflow_id") or ""
        listing.add_row(
            item["session_id"],
            item.get("session_type", ""),
            item["session_name"],
            item.get("user_id") or "",
            component_id,
            _minutes(item.get("updated_at")),
        )
    console.print(listing)


def show_session(
    session_id: Annotated[str, typer.Argument(help="The session to show")],
    db: DbOption = DEFAULT_DB,
    table: TableOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one session and its runs."""
    from sessiondb.api.views import run_preview, session_detail

    with open_store(db, table) as store:
        session = store.get_session(session_id, user_id=user)
    detail = session_detail(session)
    previews = [run_preview(run) for run in session.runs or []]
    if as_json:
        print_json({"session": detail, "runs": previews})
        return
    summary = Table(show_header=False, title=f"Session {session_id}")
    summary.add_column("field", no_wrap=True)
    summary.add_column("value", overflow="fold")
    for key in ("session_name", "user_id", "agent_id", "team_id", "workflow_id", "created_at", "updated_at"):
        summary.add_row(key, str(detail.get(key) or ""))
    summary.add_row("session_state", orjson.dumps(detail.get("session_state")).decode())
    console.print(summary)
    console.print(f"[bold]{len(previews)} run(s)[/bold]")
    # One block per run rather than a table: a run id (36 characters) beside a status, a time
    # and two previews cannot fit 80 columns, and a table would cut one of them. The id line
    # is never cut; only the previews give way, one line each.
    for preview in previews:
        console.print(
            Text.assemble(
                (preview["run_id"], "bold"),
                "  ",
                (preview.get("status", ""), "cyan"),
                "  ",
                _minutes(preview.get("created_at")),
            ),
            soft_wrap=True,
        )
        for arrow, text in (("in ", preview.get("run_input")), ("out", preview.get("content_preview"))):
            line = " ".join((text or "").split())
            console.print(Text(f"  {arrow} {line}", no_wrap=True, overflow="ellipsis"))


def delete_sessions(
    session_ids: Annotated[list[str], typer.Argument(help="Sessions to delete")],
    db: DbOption = DEFAULT_DB,
    table: TableOption = None,
    user: UserOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete sessions and their runs."""
    if not yes:
        typer.confirm(f"Delete {len(session_ids)} session(s) and all their runs?", abort=True)
    with open_store(db, table) as store:
        unique = dict.fromkeys(session_ids)
        missing = [session_id for session_id in unique if not _exists(store, session_id, user)]
        present = [session_id for session_id in session_ids if session_id not in missing]
        deleted = store.delete_sessions(present, user_id=user) if present else 0
    if as_json:
        print_json({"deleted": deleted, "not_found": missing})
    else:
        console.print(f"deleted {deleted} of {len(session_ids)} session(s)", highlight=False)
    if missing:
        raise fail(f"no session {', '.join(missing)}" + (f" of user {user}" if user else ""))


def _exists(store: SessionStore, session_id: str, user: str | None) -> bool:
    try:
        store.get_session(session_id, user_id=user, runs_limit=0)
    except SessionNotFound:
        return False
    return True
