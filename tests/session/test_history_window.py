"""The shared history algorithm in sessiondb.session._history, tested directly."""

from __future__ import annotations

from history_builders import agent_run, contents, msg, team_run, turn

from sessiondb.run import RunOutput, RunStatus
from sessiondb.session._history import (
    history_messages,
    member_runs_of,
    select_runs,
    status_values,
    team_runs_of,
    unique_runs,
    window_messages,
)


def test_select_runs_scans_from_the_newest_and_stops_after_n_matches() -> None:
    runs = [agent_run(f"r{i}") for i in range(1000)]
    seen: list[str] = []

    def keep(run: RunOutput) -> bool:
        seen.append(run.run_id)
        return run.run_id != "r998"

    picked = select_runs(runs, keep, 3)
    assert [r.run_id for r in picked] == ["r996", "r997", "r999"]
    assert seen == ["r999", "r998", "r997", "r996"]


def test_select_runs_without_last_n_keeps_every_accepted_run_in_order() -> None:
    runs = [agent_run("a"), agent_run("b"), agent_run("c")]
    assert [r.run_id for r in select_runs(runs, lambda r: r.run_id != "b", None)] == ["a", "c"]
    assert select_runs(runs, lambda r: True, 0) == []


def test_status_values_are_stored_strings() -> None:
    assert status_values(None) == frozenset()
    assert status_values([RunStatus.ERROR, "CUSTOM"]) == {"ERROR", "CUSTOM"}


def test_history_messages_applies_status_filter_before_last_n_runs() -> None:
    runs = [
        agent_run("r1", *turn("1")),
        agent_run("r2", *turn("2"), status="CUSTOM"),
    ]
    got = history_messages(runs, skip_statuses=status_values(["CUSTOM"]), last_n_runs=1)
    assert contents(got) == ["u-1", "a-1"]


def test_window_without_limit_keeps_a_leading_tool_message() -> None:
    # Only a limit can cut a tool call away from its result; without one nothing is dropped.
    runs = [agent_run("r1", msg("tool", "t"), msg("assistant", "a"))]
    assert contents(window_messages(runs)) == ["t", "a"]


def test_window_drops_several_orphan_tool_results_after_the_system_message() -> None:
    runs = [
        agent_run(
            "r1",
            msg("system", "sys"),
            msg("assistant", "call"),
            msg("tool", "t1"),
            msg("tool", "t2"),
            msg("assistant", "a"),
        )
    ]
    assert contents(window_messages(runs, limit=4)) == ["sys", "a"]
    assert contents(window_messages(runs, limit=3)) == ["sys", "a"]
    assert contents(window_messages(runs, limit=2)) == ["sys", "a"]


def test_unique_runs_keeps_the_first_of_each_run_id() -> None:
    first, again, other = agent_run("x"), agent_run("x"), agent_run("y")
    assert unique_runs([first, other, again]) == [first, other]


def test_member_and_team_lookups_walk_nested_member_responses() -> None:
    leaf = agent_run("leaf", agent_id="m")
    inner = team_run("inner", team_id="sub", member_responses=[leaf])
    outer = team_run("outer", team_id="main", member_responses=[inner])
    assert member_runs_of([outer], ["m"]) == [leaf]
    assert team_runs_of([outer], "sub") == [inner]
    assert member_runs_of([outer], ["other"]) == []
