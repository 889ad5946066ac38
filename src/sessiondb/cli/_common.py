"""What every ``sessiondb`` command shares: the consoles, the common options, one-line failures
and opening a store from a ``--db`` value."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.text import Text

from sessiondb.api.databases import CannotOpen, open_for_reading, open_for_writing
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
TableOption = Annotated[
    str | None,
    typer.Option(
        "--table",
        help="Session table (or schema.table) when the database holds several; found by default",
    ),
]
UserOption = Annotated[str | None, typer.Option("--user", help="Only this user's sessions")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def one_line(message: str) -> str:
    """``message`` with its line breaks and runs of spaces folded (drivers write several lines)."""
    return " ".join(message.split())


debug = {"on": False}
"""Whether ``--debug`` was given: failures then show the traceback of their cause."""


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` on stderr and return the ``typer.Exit`` to raise.

    With ``--debug``, the traceback of the exception being handled (if any) comes first.
    """
    if debug["on"] and sys.exc_info()[0] is not None:
        traceback.print_exc()
    # Text, not markup: a message may hold brackets. soft_wrap: rich would break it at 80 columns.
    errors.print(Text.assemble(("error:", "red"), " ", one_line(message)), highlight=False, soft_wrap=True)
    return typer.Exit(code)


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    typer.echo(orjson.dumps(data, default=str, option=orjson.OPT_INDENT_2).decode())


@contextmanager
def open_store(
    db: str, table: str | None = None, *, create: bool = False, **options: Any
) -> Iterator[SessionStore]:
    """The store a ``--db`` value names: the tables found there (``table`` picks among several).

    For commands that only read or delete (the default), never creates a file, folder,
    schema or table: a missing database, a file that is not one, no sessiondb tables or an
    old schema are one-line failures. With ``create`` (commands that write, such as
    ``import``), a missing database or tables are created. Several table sets without
    ``table``, and any store error while the block runs, are one-line failures too.
    ``options`` go to the store's constructor (``soft_delete``, ``changes_window``).
    """
    try:
        if create:
            store = open_for_writing(db, table, **options)
        else:
            store = open_for_reading(db, table, **options)
    except ValueError as exc:
        raise fail(str(exc), 2) from exc
    except (CannotOpen, StoreError) as exc:
        raise fail(str(exc)) from exc
    try:
        yield store
    except StoreError as exc:
        raise fail(str(exc)) from exc
    finally:
        store.close()
