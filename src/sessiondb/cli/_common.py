"""What every ``sessiondb`` command shares: the consoles, the common options, one-line failures
and opening a store from a ``--db`` value."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console

from sessiondb.api.serve import split_db_arg, store_from_url
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import StoreError

console = Console()
errors = Console(stderr=True)

DbOption = Annotated[
    str,
    typer.Option(
        "--db", envvar="SESSIONDB_DB", help="Database: a file path, sqlite:///..., postgresql://..."
    ),
]
UserOption = Annotated[str | None, typer.Option("--user", help="Only this user's sessions")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` on stderr and return the ``typer.Exit`` to raise."""
    errors.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    typer.echo(orjson.dumps(data, default=str, option=orjson.OPT_INDENT_2).decode())


@contextmanager
def open_store(db: str) -> Iterator[SessionStore]:
    """The store a ``--db`` value names; a bad URL or a store error is a one-line failure."""
    db_id, url = split_db_arg(db)
    try:
        store = store_from_url(url, db_id=db_id)
    except ValueError as exc:
        raise fail(str(exc), 2) from exc
    try:
        yield store
    except StoreError as exc:
        raise fail(str(exc)) from exc
    finally:
        store.close()
