"""``request_run_cancel`` / ``cancel_requested``: a cancel that reaches a run through the store."""

from __future__ import annotations

from db_builders import agent_run, agent_session

from sessiondb.db.base import SessionStore
from sessiondb.run import RunStatus


def _merge(data: dict[str, object]) -> dict[str, object]:
    return data


def test_only_a_top_level_run_in_progress_is_flagged(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=1))  # s1-r0 is COMPLETED
    store.upsert_run("s1", agent_run("live", status=RunStatus.RUNNING))
    store.upsert_run("s1", agent_run("queued", status=RunStatus.PENDING))
    store.upsert_run("s1", agent_run("member", status=RunStatus.RUNNING, parent_run_id="live"))
    assert store.cancel_requested(["live", "queued", "s1-r0", "member"]) == set()
    assert store.request_run_cancel("live") is True
    assert store.request_run_cancel("queued") is True
    assert store.request_run_cancel("s1-r0") is False
    assert store.request_run_cancel("member") is False
    assert store.request_run_cancel("no-such-run") is False
    assert store.cancel_requested(["live", "queued", "s1-r0", "member", "no-such-run"]) == {"live", "queued"}
    assert store.cancel_requested([]) == set()


def test_the_filters_leave_other_runtimes_and_users_alone(store: SessionStore) -> None:
    store.upsert_session(agent_session("mine", user_id="ada"))
    store.upsert_run("mine", agent_run("live", status=RunStatus.RUNNING, agent_id="helper"))
    assert store.request_run_cancel("live", user_id="bob") is False
    assert store.request_run_cancel("live", runtime_id="other-agent") is False
    assert store.cancel_requested(["live"]) == set()
    assert store.request_run_cancel("live", runtime_id="helper", user_id="ada") is True
    assert store.cancel_requested(["live"]) == {"live"}


def test_the_flag_survives_the_runs_own_rewrites(store: SessionStore) -> None:
    store.upsert_session(agent_session())
    store.upsert_run("s1", agent_run("live", status=RunStatus.RUNNING))
    assert store.request_run_cancel("live") is True
    # The executing process saves the run again (a workflow step) and then ends it.
    store.upsert_run("s1", agent_run("live", "step done", status=RunStatus.RUNNING))
    assert store.cancel_requested(["live"]) == {"live"}
    store.commit_run("s1", agent_run("live", status=RunStatus.CANCELLED), merge_data=_merge)
    assert store.cancel_requested(["live"]) == {"live"}
    # An ended run is never flagged again.
    assert store.request_run_cancel("live") is False
