"""Probes of a SQL store for the bulk-import tests: what it sends, what it stored, and threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select

from sessiondb.db._sql import SqlStore


def statements_sent(store: SqlStore, call: Callable[[], object]) -> list[str]:
    """The verbs (INSERT, UPDATE, SELECT, DELETE) of the statements ``call`` makes ``store`` send."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement.lstrip().split(None, 1)[0].upper())

    event.listen(store._engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(store._engine, "before_cursor_execute", record)
    return [verb for verb in sent if verb in ("INSERT", "UPDATE", "SELECT", "DELETE")]


def run_concurrently(work: Callable[[int], None], workers: int = 4) -> None:
    """Run ``work(worker)`` for each worker in its own thread; fail with the first error any raised."""
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            work(worker)
        except BaseException as error:  # re-raised below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(worker,)) for worker in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def run_indexes(store: SqlStore, session_id: str) -> list[int]:
    """The stored run indexes of ``session_id``, in the order the table returns them."""
    runs = store._tables.runs
    with store._engine.connect() as conn:
        return list(conn.execute(select(runs.c.run_index).where(runs.c.session_id == session_id)).scalars())
