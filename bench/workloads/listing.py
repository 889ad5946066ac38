"""Listing workloads: one user's page of 20 with the total count, by name, and deep via a cursor."""

from __future__ import annotations

from bench import data, seed
from bench.config import HEAVY_USER, PER_USER, Sizes, listing_probes, ordinary_users, user_for_call
from bench.env import Dataset, Env
from bench.result import Result, latency_result
from bench.stats import interleave
from sessiondb.db.query import SessionQuery

LIST_MAX_P50 = {"sqlite": 0.002, "postgres": 0.003}
CURSOR_MAX_VS_FIRST = 2.0


def _ordinary(
    backend: str, dataset: Dataset, sizes: Sizes, total: int, users: int, name: str | None
) -> Result:
    store, raw = dataset.store, dataset.raw
    filter_ = name

    def user(call: int) -> str:
        return user_for_call(call, users)

    measured = interleave(
        {
            "sessiondb": lambda i: store.get_sessions(SessionQuery(user_id=user(i), session_name=filter_)),
            "baseline": lambda i: raw.list_page(user_id=user(i), name=filter_),
        },
        rounds=sizes.rounds,
        per_round=sizes.per_round,
    )
    workload = "list_user" if name is None else "list_user_name"
    result = latency_result(
        backend,
        workload,
        {"sessions": total, "per_user": PER_USER},
        measured,
        target=f"p50 ≤ {LIST_MAX_P50[backend] * 1000:g} ms (at 1,000,000 sessions)",
    )
    result.passed = result.sessiondb.median <= LIST_MAX_P50[backend]
    return result


def _fixed_user(backend: str, dataset: Dataset, sizes: Sizes, total: int, user: str, count: int) -> Result:
    store, raw = dataset.store, dataset.raw
    measured = interleave(
        {
            "sessiondb": lambda _i: store.get_sessions(SessionQuery(user_id=user)),
            "baseline": lambda _i: raw.list_page(user_id=user),
        },
        rounds=sizes.rounds,
        per_round=sizes.per_round,
    )
    return latency_result(backend, "list_user", {"sessions": total, "per_user": count}, measured)


def _cursor_page(backend: str, dataset: Dataset, sizes: Sizes, total: int, first_page: Result) -> Result:
    store, raw = dataset.store, dataset.raw
    before = store.get_sessions(SessionQuery(user_id=HEAVY_USER, page=sizes.cursor_page - 1))
    cursor = before.next_cursor
    assert cursor is not None, "the heavy user has fewer sessions than the cursor page needs"
    last = before.items[-1]
    assert last.created_at is not None
    after = (last.created_at, last.session_id)
    measured = interleave(
        {
            "sessiondb": lambda _i: store.get_sessions(SessionQuery(user_id=HEAVY_USER, cursor=cursor)),
            "baseline": lambda _i: raw.list_page(user_id=HEAVY_USER, after=after),
        },
        rounds=sizes.rounds,
        per_round=sizes.per_round,
    )
    result = latency_result(
        backend,
        "list_cursor",
        {"sessions": total, "per_user": sizes.cursor_user_sessions, "page": sizes.cursor_page},
        measured,
        target=f"p50 ≤ {CURSOR_MAX_VS_FIRST:g}x first page",
    )
    result.extra["vs_first_page"] = result.sessiondb.median / first_page.sessiondb.median
    result.passed = result.extra["vs_first_page"] <= CURSOR_MAX_VS_FIRST
    return result


def run(env: Env, sizes: Sizes) -> list[Result]:
    """Listing workloads at every total size; probes and the cursor only at the largest."""
    results: list[Result] = []
    largest = max(sizes.list_totals)
    for total in sizes.list_totals:
        dataset = env.dataset(f"list{total}")
        probes = listing_probes(sizes, total)
        seed.listing(dataset, total, probes, per_user=PER_USER)
        users = ordinary_users(total, probes)
        results.append(_ordinary(env.backend, dataset, sizes, total, users, None))
        if total != largest:
            continue
        results.append(_ordinary(env.backend, dataset, sizes, total, users, data.NAME_FILTER))
        for user, count in probes:
            probe = _fixed_user(env.backend, dataset, sizes, total, user, count)
            results.append(probe)
            if user == HEAVY_USER:
                results.append(_cursor_page(env.backend, dataset, sizes, total, probe))
    return results
