"""``sessiondb migrate``: create or upgrade the tables of each database, and say what it did."""

from __future__ import annotations

from typing import Annotated

import typer

from sessiondb.api.databases import CannotOpen, Target, describe
from sessiondb.api.serve import DEFAULT_DB
from sessiondb.cli._common import console, fail
from sessiondb.db._sql.migrate import head_revision
from sessiondb.db.errors import StoreError


def _migrate_one(value: str) -> list[str]:
    """Migrate every table set of one ``--db`` value (the default set when there is none)."""
    target = Target.parse(value)
    if target.backend == "memory" or (target.backend == "sqlite" and target.path is None):
        return [f"{target.shown}: in memory, nothing to migrate"]
    existed = target.check_file(must_exist=False)
    if target.path is not None and not existed:
        target.path.parent.mkdir(parents=True, exist_ok=True)
    sets = target.table_sets() if existed else []
    head = head_revision()
    if not sets:
        store = target.open(None, auto_migrate=True)
        try:
            store.migrate()
        finally:
            store.close()
        new = " (new file)" if not existed else ""
        created = describe(target.table_sets())
        return [f"created table {created} in {target.shown}{new} at revision {head}"]
    lines = []
    for table_set in sets:
        if table_set.revision == head:
            lines.append(f"{table_set.qualified} in {target.shown}: already up to date (revision {head})")
            continue
        store = target.open(table_set.names, auto_migrate=True)
        try:
            store.migrate()
        finally:
            store.close()
        lines.append(
            f"migrated {table_set.qualified} in {target.shown} from revision {table_set.revision} to {head}"
        )
    return lines


def migrate(
    db: Annotated[
        list[str] | None,
        typer.Option("--db", envvar="SESSIONDB_DB", help="Database URL or id=URL; repeatable"),
    ] = None,
) -> None:
    """Create the tables, or upgrade every table set found to this version. Safe to repeat."""
    for value in db or [DEFAULT_DB]:
        try:
            lines = _migrate_one(value)
        except ValueError as exc:
            raise fail(str(exc), 2) from exc
        except (CannotOpen, StoreError) as exc:
            raise fail(str(exc)) from exc
        for line in lines:
            console.print(line, highlight=False, soft_wrap=True)
