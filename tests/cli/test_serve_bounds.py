"""``sessiondb serve``'s bounds on database waits: flags and environment reach the stores."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sessiondb.api.serve import ServeSettings, open_stores, resolve_settings
from sessiondb.db.sqlite import SqliteDb
from sessiondb.db.timeouts import Timeouts

SESSIONDB = str(Path(sys.executable).with_name("sessiondb"))


def test_the_bound_settings_become_the_stores_timeouts(tmp_path: Path) -> None:
    settings = resolve_settings(
        {
            "db": [str(tmp_path / "a.db")],
            "db_lock_timeout": 1.5,
            "db_pool_timeout": 3,
            "db_statement_timeout": 9,
        },
        None,
    )
    [store] = open_stores(settings)
    try:
        assert isinstance(store, SqliteDb)
        assert store._timeouts == Timeouts(connect_s=5.0, pool_s=3, lock_s=1.5, statement_s=9)
        assert store._engine.pool.timeout() == 3
        with store._engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1500
    finally:
        store.close()


def test_without_settings_sqlite_keeps_its_30_second_lock_wait(tmp_path: Path) -> None:
    [store] = open_stores(ServeSettings(db=[str(tmp_path / "b.db")]))
    try:
        with store._engine.connect() as conn:  # type: ignore[attr-defined]
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        store.close()


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--db-lock-timeout", "0"], {}, "db_lock_timeout"),
        (["--health-timeout", "-1"], {}, "health_timeout"),
        ([], {"SESSIONDB_DB_STATEMENT_TIMEOUT": "inf"}, "db_statement_timeout"),
    ],
)
def test_a_bound_that_is_not_a_positive_number_exits_2_naming_it(
    tmp_path: Path, args: list[str], env: dict[str, str], named: str
) -> None:
    result = subprocess.run(
        [SESSIONDB, "serve", "--db", str(tmp_path / "c.db"), "--port", "18399", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )
    assert result.returncode == 2, result.stderr
    said = " ".join((result.stdout + result.stderr).split())
    assert f"{named} must be a positive number of seconds" in said
    assert "Traceback" not in said
