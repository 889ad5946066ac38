"""Retention policies and their file format, parsed (pure, no store); the maintenance lock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from sessiondb.db._sql import SqlStore
from sessiondb.db.retention import DEFAULT_INTERVAL, RetentionPolicy, parse_duration, parse_retention_file
from sessiondb.db.sqlite import SqliteDb
from store_backends import SqlTarget


@pytest.mark.parametrize(
    ("text", "seconds"), [("45s", 45), ("30m", 1800), ("12h", 43200), ("30d", 2_592_000), (" 2w ", 1_209_600)]
)
def test_durations_are_a_number_and_a_unit(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "30", "d", "1.5d", "-3d", "30 days", "3y"])
def test_a_malformed_duration_names_the_option(text: str) -> None:
    with pytest.raises(ValueError, match="--older-than"):
        parse_duration(text, name="--older-than")


def test_a_policy_file_lists_policies_and_an_interval() -> None:
    parsed = parse_retention_file(
        """
        interval = "15m"
        [[policy]]
        inactive_for = "30d"
        [[policy]]
        older_than = "365d"
        session_type = "workflow"
        component_id = "wf-1"
        hard = true
        """
    )
    assert parsed.interval == timedelta(minutes=15)
    assert parsed.policies == [
        RetentionPolicy(inactive_for=timedelta(days=30)),
        RetentionPolicy(
            older_than=timedelta(days=365), session_type="workflow", component_id="wf-1", hard=True
        ),
    ]
    assert parse_retention_file('[[policy]]\nolder_than = "1d"').interval == DEFAULT_INTERVAL


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("not toml [", "not valid TOML"),
        ('interval = "1h"', "no [[policy]]"),
        (
            '[[policy]]\nolder_than = "1d"\ninactive_for = "1d"',
            "policy #1: a retention policy needs exactly one",
        ),
        ('[[policy]]\nolder_than = "1d"\n[[policy]]\nuser = "x"', "policy #2: unknown key(s) ['user']"),
        ('[[policy]]\nolder_than = "soon"', "policy #1: older_than"),
        ('[[policy]]\nolder_than = "1d"\nhard = "yes"', "hard must be true or false"),
        ('[[policy]]\nolder_than = "1d"\nsession_type = "robot"', "session_type must be one of"),
        ('colour = "red"\n[[policy]]\nolder_than = "1d"', "unknown key(s) ['colour']"),
        ('interval = "0s"\n[[policy]]\nolder_than = "1d"', "interval must be positive"),
    ],
)
def test_a_malformed_policy_file_names_the_file_policy_and_key(text: str, named: str) -> None:
    with pytest.raises(ValueError, match=r"policies\.toml") as raised:
        parse_retention_file(text, source="policies.toml")
    assert named in str(raised.value)


def test_only_one_store_on_a_database_holds_the_maintenance_lock(
    sql_target: SqlTarget, sql_store: SqlStore
) -> None:
    other = sql_target.open()
    try:
        with sql_store.maintenance_lock() as mine:
            assert mine
            with other.maintenance_lock() as theirs:
                assert not theirs
        with other.maintenance_lock() as theirs:
            assert theirs  # released when the holder's block ended
    finally:
        other.close()


def test_a_sqlite_uri_filename_locks_beside_its_file(tmp_path: Path) -> None:
    """``file:<path>?...`` names the file with a prefix and a query: the lock file sits next to
    the database, not under a ``file:`` directory of the working directory."""
    database = tmp_path / "uri.db"
    SqliteDb(db_file=database).close()  # creates and migrates it
    first = SqliteDb(db_url=f"sqlite:///file:{database}?mode=rw&uri=true")
    second = SqliteDb(db_url=f"sqlite:///file:{database}?mode=rw&uri=true")
    try:
        with first.maintenance_lock() as mine, second.maintenance_lock() as theirs:
            assert mine and not theirs
    finally:
        first.close()
        second.close()
    assert (tmp_path / "uri.db.maintenance").exists()
    assert not list(Path().glob("file:*"))
