"""Watch the SQL a store sends: a ``before_cursor_execute`` listener on its engine.

A listener also makes the store take SQLAlchemy's own execution instead of its driver-cursor
fast paths (they step aside when anything watches the statements), which the twin tests use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from sessiondb.db._sql import SqlStore


@contextmanager
def statements(store: SqlStore, keep: Callable[[str], bool] = lambda _statement: True) -> Iterator[list[str]]:
    """Collect the SQL statements ``store`` sends while the block runs (those ``keep`` accepts)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if keep(statement):
            sent.append(statement)

    event.listen(store._engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(store._engine, "before_cursor_execute", record)
