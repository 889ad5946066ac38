"""``sessiondb sessions list|show|delete``: inspect and delete sessions from a terminal."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.table import Table

from sessiondb.api.serve import DEFAULT_DB
from sessiondb.cli._common import DbOption, JsonOption, UserOption, console, open_store, print_json
from sessiondb.db.query import SORT_FIELDS, SessionQuery


def list_sessions(
    db: DbOption = DEFAULT_DB,
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

    with open_store(db) as store:
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
    table = Table(
        title=f"Sessions (page {page} of {max(result.total_pages, 1)}, {result.total_count} in all)"
    )
    for column in ("session id", "type", "name", "user", "component", "updated"):
        table.add_column(column)
    for item in items:
        component_id = item.get("agent_id") or item.get("team_id") or item.get("workflow_id") or ""
        table.add_row(
            item["session_id"],
            item.get("session_type", ""),
            item["session_name"],
            item.get("user_id") or "",
            component_id,
            item.get("updated_at") or "",
        )
    console.print(table)


def show_session(
    session_id: Annotated[str, typer.Argument(help="The session to show")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one session and its runs."""
    from sessiondb.api.views import run_preview, session_detail

    with open_store(db) as store:
        session = store.get_session(session_id, user_id=user)
    detail = session_detail(session)
    previews = [run_preview(run) for run in session.runs or []]
    if as_json:
        print_json({"session": detail, "runs": previews})
        return
    summary = Table(show_header=False, title=f"Session {session_id}")
    for key in ("session_name", "user_id", "agent_id", "team_id", "workflow_id", "created_at", "updated_at"):
        summary.add_row(key, str(detail.get(key) or ""))
    summary.add_row("session_state", orjson.dumps(detail.get("session_state")).decode())
    console.print(summary)
    runs = Table(title=f"{len(previews)} run(s)")
    for column in ("run id", "status", "created", "input", "output"):
        runs.add_column(column)
    for preview in previews:
        runs.add_row(
            preview["run_id"],
            preview.get("status", ""),
            preview.get("created_at", ""),
            (preview.get("run_input") or "")[:60],
            (preview.get("content_preview") or "")[:60],
        )
    console.print(runs)


def delete_sessions(
    session_ids: Annotated[list[str], typer.Argument(help="Sessions to delete")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete sessions and their runs."""
    if not yes:
        typer.confirm(f"Delete {len(session_ids)} session(s) and all their runs?", abort=True)
    with open_store(db) as store:
        deleted = store.delete_sessions(session_ids, user_id=user)
    if as_json:
        print_json({"deleted": deleted})
    else:
        console.print(f"deleted {deleted} of {len(session_ids)} session(s)")
