"""The in-run baselines: the raw driver doing the SQL each sessiondb call needs, on the same tables.

Every baseline reads and writes sessiondb's own tables (same rows, same indexes, same file or
schema), so the ratio is sessiondb's overhead over the SQL it has to run, nothing else. Inputs
are plain dicts, serialised with orjson; outputs are decoded with orjson into dicts: the
baseline does the I/O and the JSON work, and no more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from bench.driver import Driver

SESSION_JSON_COLUMNS = ("session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary")
HISTORY_SKIP = "('CANCELLED', 'ERROR', 'PAUSED', 'REGENERATED')"
"""Statuses a history read skips (sessiondb's ``HISTORY_SKIP_VALUES``), as an SQL list."""
RUN_COLUMNS = (
    "run_id, session_id, run_index, run_type, agent_id, team_id, workflow_id, user_id, parent_run_id, "
    "status, run_data, created_at, updated_at"
)


def run_row(run: dict[str, Any], session_id: str, index: int, now: int) -> tuple[Any, ...]:
    """The column values of a run row (JSON text included), in :data:`RUN_COLUMNS` order."""
    return (
        run["run_id"],
        session_id,
        index,
        "agent",
        run.get("agent_id"),
        run.get("team_id"),
        run.get("workflow_id"),
        run.get("user_id"),
        run.get("parent_run_id"),
        run.get("status"),
        orjson.dumps(run).decode(),
        run["created_at"],
        now,
    )


@dataclass
class RawStore:
    """The baseline operations on one sessiondb table pair.

    Attributes:
        driver: the raw connection.
        sessions: the sessions table name (unqualified).
        runs: the runs table name (unqualified).
    """

    driver: Driver
    sessions: str
    runs: str

    def _decode_session(self, row: dict[str, Any]) -> dict[str, Any]:
        if self.driver.dialect == "sqlite":
            # SQLite hands JSON back as text; psycopg has already decoded JSONB (with orjson).
            for column in SESSION_JSON_COLUMNS:
                if row[column] is not None:
                    row[column] = orjson.loads(row[column])
        return row

    def _insert_run(self) -> str:
        slots = ["?"] * len(RUN_COLUMNS.split(","))
        slots[RUN_COLUMNS.split(", ").index("run_data")] = self.driver.payload_slot
        return f"INSERT INTO {self.driver.table(self.runs)} ({RUN_COLUMNS}) VALUES ({', '.join(slots)})"

    def append(self, session_id: str, run: dict[str, Any], now: int) -> int:
        """Append one run: reserve its index on the session row, insert the run row. One transaction."""
        return self.append_many(session_id, [run], now)

    def append_many(self, session_id: str, runs: Sequence[dict[str, Any]], now: int) -> int:
        """Append runs in one transaction (used for seeding); returns the first new index."""
        d = self.driver
        bump = (
            f"UPDATE {d.table(self.sessions)} SET updated_at = ?, version = version + 1, "
            "next_run_index = next_run_index + ? WHERE session_id = ? RETURNING next_run_index"
        )
        insert = self._insert_run()
        with d.transaction(write=True) as cursor:
            cursor.execute(d.sql(bump), (now, len(runs), session_id))
            first = int(cursor.fetchone()[0]) - len(runs)
            rows = [run_row(run, session_id, first + offset, now) for offset, run in enumerate(runs)]
            if len(rows) == 1:
                cursor.execute(d.sql(insert), rows[0])
            else:
                cursor.executemany(d.sql(insert), rows)
        return first

    def last_runs(self, session_id: str, count: int) -> list[dict[str, Any]]:
        """Select the newest ``count`` history runs and decode them, oldest first."""
        d = self.driver
        query = (
            f"SELECT run_data{'::text' if d.dialect == 'postgres' else ''} FROM {d.table(self.runs)} "
            "WHERE session_id = ? AND parent_run_id IS NULL "
            f"AND (status IS NULL OR status NOT IN {HISTORY_SKIP}) ORDER BY run_index DESC LIMIT ?"
        )
        with d.transaction(write=False) as cursor:
            cursor.execute(d.sql(query), (session_id, count))
            texts = [row[0] for row in cursor.fetchall()]
        return [orjson.loads(text) for text in reversed(texts)]

    def load_session(self, session_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Select the session row and all its runs in order (one snapshot) and decode them."""
        d = self.driver
        runs = (
            f"SELECT run_data{'::text' if d.dialect == 'postgres' else ''} FROM {d.table(self.runs)} "
            "WHERE session_id = ? ORDER BY run_index"
        )
        with d.transaction(write=False) as cursor:
            cursor.execute(
                d.sql(f"SELECT * FROM {d.table(self.sessions)} WHERE session_id = ?"), (session_id,)
            )
            names = [column[0] for column in cursor.description]
            row = dict(zip(names, cursor.fetchone(), strict=True))
            cursor.execute(d.sql(runs), (session_id,))
            texts = [found[0] for found in cursor.fetchall()]
        return self._decode_session(row), [orjson.loads(text) for text in texts]

    def list_page(
        self,
        *,
        user_id: str,
        name: str | None = None,
        limit: int = 20,
        offset: int = 0,
        after: tuple[int, str] | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of a user's sessions, newest first, with the total count of matches.

        Args:
            name: a lower-case substring the name must contain.
            after: keyset position ``(created_at, session_id)``; the page starts after it.
        """
        d = self.driver
        where = "user_id = ?"
        params: list[Any] = [user_id]
        if name is not None:
            where += " AND name_search LIKE ?"
            params.append(f"%{name}%")
        page_where, page_params = where, list(params)
        if after is not None:
            page_where += " AND (created_at, session_id) < (?, ?)"
            page_params.extend(after)
        table = d.table(self.sessions)
        page = (
            f"SELECT * FROM {table} WHERE {page_where} "
            f"ORDER BY created_at DESC, session_id DESC LIMIT ? OFFSET ?"
        )
        with d.transaction(write=False) as cursor:
            cursor.execute(d.sql(f"SELECT count(*) FROM {table} WHERE {where}"), params)
            total = int(cursor.fetchone()[0])
            cursor.execute(d.sql(page), (*page_params, limit, 0 if after is not None else offset))
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, found, strict=True)) for found in cursor.fetchall()]
        return [self._decode_session(row) for row in rows], total

    def import_sessions(
        self, sessions: Sequence[tuple[dict[str, Any], Sequence[dict[str, Any]]]], columns: Sequence[str]
    ) -> None:
        """Insert whole sessions (row values by column name, then runs) in one transaction.

        Args:
            sessions: ``(session row, runs)`` pairs; JSON columns of the row are dicts.
            columns: the session columns to write, in order.
        """
        d = self.driver
        slots = ", ".join(d.json_slot if name in SESSION_JSON_COLUMNS else "?" for name in columns)
        insert_session = f"INSERT INTO {d.table(self.sessions)} ({', '.join(columns)}) VALUES ({slots})"
        insert_run = self._insert_run()
        session_rows: list[list[Any]] = []
        run_rows: list[tuple[Any, ...]] = []
        for row, runs in sessions:
            values = [row[name] for name in columns]
            for position, name in enumerate(columns):
                if name in SESSION_JSON_COLUMNS and values[position] is not None:
                    values[position] = orjson.dumps(values[position]).decode()
            session_rows.append(values)
            now = row["updated_at"]
            run_rows.extend(run_row(run, row["session_id"], index, now) for index, run in enumerate(runs))
        with d.transaction(write=True) as cursor:
            cursor.executemany(d.sql(insert_session), session_rows)
            cursor.executemany(d.sql(insert_run), run_rows)
