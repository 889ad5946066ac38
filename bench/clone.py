"""Grow a sessions table fast: copy template rows in SQL under new ids, users and times.

Building a million sessions one API call at a time would take longer than the benchmark, so
the listing datasets are made of a few template sessions written through the system under
test, then copied inside the database (``INSERT ... SELECT`` over a generated sequence). The
copies are byte-identical to the templates except for the columns overridden here, so they
are rows the system itself would have written. Works on any sessions table whose key is
``session_id`` (sessiondb's and Agno's alike). Standard library and the drivers only.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.data import BASE_TIME
from bench.driver import Driver

TEMPLATE_IDS = [f"tpl-{number:04d}" for number in range(100)]
"""The sessions a listing dataset is cloned from (deleted once cloned)."""


@dataclass(frozen=True)
class CloneSpec:
    """One batch of copies.

    Attributes:
        count: how many sessions to make.
        id_prefix: new ``session_id`` is this plus the sequence number.
        user_prefix: new ``user_id`` is this plus ``n // per_user`` (or just this when
            ``per_user`` is 0: every copy belongs to that one user).
        per_user: sessions per generated user.
        first_created_at: ``created_at`` (and ``updated_at``) of copy ``n`` is this plus ``n``.
    """

    count: int
    id_prefix: str
    user_prefix: str
    per_user: int
    first_created_at: int


def clone_sessions(driver: Driver, table: str, template_ids: list[str], spec: CloneSpec) -> None:
    """Insert ``spec.count`` copies of the template rows (copy ``n`` is template ``n % len``)."""
    if spec.count <= 0:
        return
    columns = driver.columns(table)
    user = "? || CAST(seq.n / ? AS TEXT)" if spec.per_user else "?"
    overrides = {
        "session_id": "? || CAST(seq.n AS TEXT)",
        "user_id": user,
        "created_at": "? + seq.n",
        "updated_at": "? + seq.n",
    }
    override_params = {
        "session_id": [spec.id_prefix],
        "user_id": [spec.user_prefix, spec.per_user] if spec.per_user else [spec.user_prefix],
        "created_at": [spec.first_created_at],
        "updated_at": [spec.first_created_at],
    }
    select_list = ", ".join(overrides.get(name, f'tpl."{name}"') for name in columns)
    params: list[object] = []
    for name in columns:
        params.extend(override_params.get(name, []))
    slots = ", ".join("?" for _ in template_ids)
    qualified = driver.table(table)
    template = (
        f"SELECT t.*, ROW_NUMBER() OVER (ORDER BY t.session_id) - 1 AS tpl_k "
        f"FROM {qualified} AS t WHERE t.session_id IN ({slots})"
    )
    if driver.dialect == "sqlite":
        sequence = "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ?) "
        source = "seq"
        head_params: list[object] = [spec.count - 1]
    else:
        sequence = ""
        source = "generate_series(0, ?) AS seq(n)"
        head_params = []
    quoted = ", ".join(f'"{name}"' for name in columns)
    statement = (
        f"INSERT INTO {qualified} ({quoted}) {sequence}SELECT {select_list} "
        f"FROM {source} JOIN ({template}) AS tpl ON tpl.tpl_k = seq.n % ?"
    )
    if driver.dialect == "sqlite":
        all_params = [*head_params, *params, *template_ids, len(template_ids)]
    else:
        all_params = [*params, spec.count - 1, *template_ids, len(template_ids)]
    driver.execute(statement, all_params)


def grow_listing(
    driver: Driver,
    table: str,
    template_ids: list[str],
    total: int,
    probes: list[tuple[str, int]],
    per_user: int,
) -> None:
    """Turn the template rows into a listing dataset of ``total`` sessions, then drop the templates.

    Ordinary users ``u0``, ``u1``, ... get ``per_user`` sessions each; probe ``(user, count)``
    gets exactly ``count`` (part of ``total``). ``created_at`` counts up by one per session.
    """
    ordinary = total - sum(count for _, count in probes)
    clock = BASE_TIME
    clone_sessions(driver, table, template_ids, CloneSpec(ordinary, "s-", "u", per_user, clock))
    clock += ordinary
    for user, count in probes:
        clone_sessions(driver, table, template_ids, CloneSpec(count, f"{user}-", user, 0, clock))
        clock += count
    slots = ", ".join("?" for _ in template_ids)
    driver.execute(f"DELETE FROM {driver.table(table)} WHERE session_id IN ({slots})", template_ids)


def analyze(driver: Driver, tables: list[str]) -> None:
    """On PostgreSQL, gather planner statistics for ``tables``.

    Autovacuum would analyse freshly loaded tables within a minute; without statistics the
    planner picks a sort over a bitmap scan for "last N runs", which no long-lived database
    would. SQLite never gathers statistics by itself, so it is left alone.
    """
    if driver.dialect == "postgres":
        for table in tables:
            driver.execute(f"ANALYZE {driver.table(table)}")
