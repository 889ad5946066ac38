"""``sessiondb sessions search``: full-text search across transcripts, from a terminal."""

from __future__ import annotations

import html
import re
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from sessiondb.api.serve import DEFAULT_DB
from sessiondb.cli._common import DbOption, JsonOption, UserOption, console, open_store, print_json
from sessiondb.db.search import MARK_END, MARK_START

_MARKS = re.compile(f"({re.escape(MARK_START)}|{re.escape(MARK_END)})")


def snippet_text(snippet: str) -> Text:
    """A hit's snippet (escaped HTML with ``<mark>``) as terminal text, the matches in bold.

    Built with ``Text.append``, so nothing in the snippet is read as Rich markup.
    """
    text = Text()
    marked = False
    for part in _MARKS.split(snippet):
        if part in (MARK_START, MARK_END):
            marked = part == MARK_START
            continue
        text.append(html.unescape(part).replace("\n", " "), style="bold yellow" if marked else None)
    return text


def search_sessions(
    query: Annotated[str, typer.Argument(help='Words to find; "exact phrase"; prefix*')],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    session_type: Annotated[str | None, typer.Option("--type", help="agent, team or workflow")] = None,
    component: Annotated[str | None, typer.Option(help="Agent, team or workflow id")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Hits per page")] = 20,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page")] = None,
    as_json: JsonOption = False,
) -> None:
    """Search what was said in every session, best matches first."""
    with open_store(db) as store:
        page = store.search(
            query,
            user_id=user,
            session_type=session_type,  # type: ignore[arg-type]  # checked by SearchQuery
            component_id=component,
            limit=limit,
            cursor=cursor,
        )
    if as_json:
        print_json(
            {
                "data": [hit.to_dict() for hit in page.items],
                "meta": {"limit": limit, "next_cursor": page.next_cursor},
            }
        )
        return
    table = Table(title=f"{len(page.items)} hit(s) for {query!r}")
    for column in ("session id", "name", "run id", "score", "snippet"):
        table.add_column(column)
    for hit in page.items:
        table.add_row(
            hit.session_id, hit.session_name, hit.run_id, f"{hit.score:.3g}", snippet_text(hit.snippet)
        )
    console.print(table)
    if page.next_cursor is not None:
        console.print(f"more: --cursor {page.next_cursor}", highlight=False, soft_wrap=True)
