"""A writer process for the crash test: appends runs forever, printing each id once committed.

Usage: ``python crash_writer.py sqlite <file>`` or ``python crash_writer.py postgres <url> <schema>``.
The parent kills it with SIGKILL mid-way and checks that every printed run is stored intact.
"""

from __future__ import annotations

import sys
from itertools import count

from sessiondb.db._sql import SqlStore
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.sqlite import SqliteDb
from sessiondb.run import Message, RunInput, RunOutput, RunStatus

SESSION_ID = "crash"


def crash_run(number: int) -> RunOutput:
    """The run the writer stores as number ``number``: its payload is derived from the number."""
    text = f"payload {number} " + "x" * 2_000
    return RunOutput(
        run_id=f"run-{number}",
        agent_id="writer",
        status=RunStatus.COMPLETED,
        created_at=1_700_000_000 + number,
        input=RunInput(input_content=text),
        messages=[Message(id=f"m-{number}", role="user", content=text, created_at=1_700_000_000)],
    )


def main(argv: list[str]) -> None:
    """Append runs to session ``crash`` until killed."""
    store: SqlStore
    if argv[0] == "sqlite":
        store = SqliteDb(db_file=argv[1], auto_migrate=False)
    else:
        store = PostgresDb(db_url=argv[1], db_schema=argv[2], auto_migrate=False)
    for number in count():
        session = store.get_session(SESSION_ID, runs_limit=1)
        session.upsert_run(crash_run(number))
        store.upsert_session(session)
        print(f"run-{number}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
