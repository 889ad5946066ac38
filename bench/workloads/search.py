"""Full-text search: one user's search among many runs of many users (``store.search``).

The dataset is imported through the bulk path (``upsert_sessions``: PostgreSQL's ``COPY``, the
index rows in the same transactions), ``RUNS_PER_USER`` runs per user in sessions of
``RUNS_PER_SESSION``. Run texts are drawn from a Zipf-distributed vocabulary, so common words
match most runs and rare ones few, as in real transcripts. Each call searches for one user
(spread over all users) with one of :data:`QUERIES` in turn.

The baseline is the same search written by hand against the same index through the raw
driver: the FTS5 ``MATCH`` restricted to the user's ``owner`` token, scored by the matches
``highlight`` marks, with ``snippet`` (SQLite, as sessiondb searches one user's runs since
migration 0009), the ``@@`` with
``ts_rank`` and ``ts_headline`` (PostgreSQL), joined to the sessions for the user, ordered and
limited as sessiondb does. The ratio is what sessiondb adds to a raw FTS query.
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from bench import data
from bench.config import Sizes
from bench.env import Dataset, Env
from bench.result import Result, latency_result
from bench.stats import interleave, time_ops
from sessiondb.run import Message, RunOutput
from sessiondb.session import AgentSession

RUNS_PER_USER = 100
RUNS_PER_SESSION = 10
SESSIONS_PER_BATCH = 100
VOCABULARY = 5_000
SEARCH_MAX_P50 = 0.010
SEARCH_MAX_RATIO = 2.0
LIMIT = 20


@cache
def _vocabulary() -> tuple[list[str], list[float]]:
    rng = random.Random(17)
    syllables = ["ka", "lo", "mi", "ren", "tor", "vi", "sa", "pel", "dun", "ex", "qu", "zor", "an", "bel"]
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    # Cumulative weights, so that drawing a word is a bisection, not a pass over the vocabulary.
    weights = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(VOCABULARY)))
    return words, weights


def _sentence(rng: random.Random, count: int) -> str:
    words, weights = _vocabulary()
    return " ".join(rng.choices(words, cum_weights=weights, k=count))


def _run(session_id: str, user_id: str, index: int, seed: int) -> RunOutput:
    rng = random.Random(seed)
    question, answer = _sentence(rng, 25), _sentence(rng, 60)
    return RunOutput(
        run_id=f"{session_id}-r{index}",
        agent_id=data.AGENT_ID,
        user_id=user_id,
        status="COMPLETED",
        created_at=data.BASE_TIME + seed,
        content=answer,
        messages=[Message(role="user", content=question), Message(role="assistant", content=answer)],
    )


def queries() -> list[str]:
    """The searches made in turn: a rare word, a mid word, two words, a prefix, a common phrase."""
    words, _ = _vocabulary()
    return [
        words[2_000],
        words[300],
        f"{words[40]} {words[150]}",
        f"{words[120][:4]}*",
        f'"{words[0]} {words[1]}"',
    ]


def seed_runs(dataset: Dataset, total: int) -> float:
    """Import ``total`` runs, ``RUNS_PER_USER`` per user, with ``upsert_sessions``; returns seconds."""
    users = max(1, total // RUNS_PER_USER)
    sessions_per_user = RUNS_PER_USER // RUNS_PER_SESSION
    started = time.perf_counter()
    batch: list[AgentSession] = []
    number = 0
    for user in range(users):
        for k in range(sessions_per_user):
            session_id = f"s{user}-{k}"
            runs = [
                _run(session_id, f"u{user}", i, number * RUNS_PER_SESSION + i)
                for i in range(RUNS_PER_SESSION)
            ]
            batch.append(
                AgentSession(session_id=session_id, agent_id=data.AGENT_ID, user_id=f"u{user}", runs=runs)
            )
            number += 1
            if len(batch) == SESSIONS_PER_BATCH:
                dataset.store.upsert_sessions(batch)
                batch = []
    if batch:
        dataset.store.upsert_sessions(batch)
    elapsed = time.perf_counter() - started
    names = dataset.store._tables.names
    if dataset.raw.driver.dialect == "postgres":
        for table in (names.sessions, names.runs, names.search):
            dataset.raw.driver.execute(f"ANALYZE {dataset.raw.driver.table(table)}")
    return elapsed


def _raw_sql(dataset: Dataset) -> str:
    # Imported here: `bench ab` runs this module against older sessiondb checkouts without search.
    from sessiondb.db.search import ENGINE_MARK_END, ENGINE_MARK_START

    driver, names = dataset.raw.driver, dataset.store._tables.names
    sessions, search = driver.table(names.sessions), driver.table(names.search)
    if driver.dialect == "sqlite":
        fts = driver.table(names.search_fts)
        return (
            f"SELECT d.run_id, d.session_id, d.created_at, "
            f"(length(highlight({fts}, 0, char(1), char(1))) - length(d.body)) / 2.0 AS score, "
            f"snippet({fts}, 0, char(2), char(3), '…', 16), s.session_type, s.session_name "
            f"FROM {fts} JOIN {search} d ON d.doc_id = {fts}.rowid "
            f"JOIN {sessions} s ON s.session_id = d.session_id "
            f"WHERE {fts} MATCH ? AND s.user_id = ? "
            f"ORDER BY score DESC, d.created_at DESC, d.run_id DESC LIMIT {LIMIT + 1}"
        )
    options = f"StartSel={ENGINE_MARK_START}, StopSel={ENGINE_MARK_END}, MaxWords=16, MinWords=8"
    return (
        "SELECT p.*, ts_headline('simple', p.body, to_tsquery('simple', ?), "
        f"'{options}') FROM (SELECT d.run_id, d.session_id, d.created_at, d.body, "
        "ts_rank(d.tsv, to_tsquery('simple', ?))::float8 AS score, s.session_type, s.session_name "
        f"FROM {search} d JOIN {sessions} s ON s.session_id = d.session_id "
        "WHERE d.tsv @@ to_tsquery('simple', ?) AND s.user_id = ? "
        f"ORDER BY score DESC, d.created_at DESC, d.run_id DESC LIMIT {LIMIT + 1}) p"
    )


def _raw_search(dataset: Dataset, sql: str, query: str, user: str) -> list[Any]:
    from sessiondb.db._sql.search import fts5_query, tsquery_text
    from sessiondb.db.search import parse_terms

    driver = dataset.raw.driver
    terms = parse_terms(query)
    params: tuple[str, ...]
    if driver.dialect == "sqlite":
        params = (fts5_query(terms, user), user)
    else:
        text = tsquery_text(terms)
        params = (text, text, text, user)
    with driver.transaction(write=False) as cursor:
        cursor.execute(driver.sql(sql), params)
        return list(cursor.fetchall())


def _measure(env: Env, sizes: Sizes, total: int) -> Result:
    dataset = env.dataset(f"search{total}")
    seeded_s = seed_runs(dataset, total)
    users = max(1, total // RUNS_PER_USER)
    sql = _raw_sql(dataset)
    searches = queries()

    def user(call: int) -> str:
        return f"u{(call * 7919) % users}"

    def ours(call: int) -> object:
        return dataset.store.search(searches[call % len(searches)], user_id=user(call), limit=LIMIT)

    def baseline(call: int) -> object:
        return _raw_search(dataset, sql, searches[call % len(searches)], user(call))

    measured = interleave(
        {"sessiondb": ours, "baseline": baseline}, rounds=sizes.rounds, per_round=sizes.per_round
    )
    target = f"p50 ≤ {SEARCH_MAX_P50 * 1000:g} ms, ≤ {SEARCH_MAX_RATIO:g}x raw FTS (at 1,000,000 runs)"
    result = latency_result(
        env.backend, "search_user", {"runs": total, "users": users}, measured, target=target
    )
    result.extra["seed_runs_per_s"] = round(total / seeded_s)
    result.extra["by_query"] = _by_query(searches, ours, baseline, sizes.per_round)
    result.passed = result.sessiondb.median <= SEARCH_MAX_P50 and result.ratio <= SEARCH_MAX_RATIO
    return result


def _by_query(
    searches: list[str], ours: Callable[[int], object], baseline: Callable[[int], object], count: int
) -> dict[str, list[float]]:
    """Median milliseconds of each query kind, ``[sessiondb, baseline]``: the mix hides the costly ones."""
    found: dict[str, list[float]] = {}
    for kind, query in enumerate(searches):
        # Call numbers that pick this query (and, through them, a spread of users).
        picks = [kind + len(searches) * n for n in range(count)]
        found[query] = [_median_ms(side, picks) for side in (ours, baseline)]
    return found


def _median_ms(side: Callable[[int], object], picks: list[int]) -> float:
    return round(statistics.median(time_ops(lambda n: side(picks[n]), len(picks))) * 1000, 3)


def run(env: Env, sizes: Sizes) -> list[Result]:
    """The search workload at every size of ``sizes.search_runs``."""
    return [_measure(env, sizes, total) for total in sizes.search_runs]
