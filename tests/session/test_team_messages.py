"""TeamSession.get_messages, get_chat_history and the team history helpers (spec §2.4, §2.6, §2.7)."""

from __future__ import annotations

import pytest
from history_builders import agent_run, contents, msg, team_run, turn
from pydantic import BaseModel

from sessiondb.run import RunStatus, TeamRunInput, TeamRunOutput
from sessiondb.session import TeamSession


def member(run_id: str, agent_id: str, tag: str, parent: str = "t1") -> object:
    return agent_run(run_id, *turn(tag), agent_id=agent_id, parent_run_id=parent)


def team_session() -> TeamSession:
    """Team run t1 delegated to members m1 (agent-a) and m2 (agent-b); m1 is also stored standalone."""
    m1 = member("m1", "agent-a", "m1")
    m2 = member("m2", "agent-b", "m2")
    t1 = team_run("t1", msg("system", "team-sys"), *turn("t1"), member_responses=[m1, m2])
    m1_standalone = member("m1", "agent-a", "m1")
    return TeamSession(session_id="s", runs=[m1_standalone, t1, team_run("t2", *turn("t2"))])


def test_default_skips_member_runs() -> None:
    assert contents(team_session().get_messages()) == ["team-sys", "u-t1", "a-t1", "u-t2", "a-t2"]


def test_skip_member_messages_false_includes_top_level_member_runs() -> None:
    got = team_session().get_messages(skip_member_messages=False)
    assert contents(got) == ["u-m1", "a-m1", "team-sys", "u-t1", "a-t1", "u-t2", "a-t2"]


def test_member_ids_finds_member_runs_once_whether_standalone_or_nested() -> None:
    got = team_session().get_messages(member_ids=["agent-a", "agent-b"])
    assert contents(got) == ["u-m1", "a-m1", "u-m2", "a-m2"]


def test_member_ids_keeps_only_the_listed_members() -> None:
    assert contents(team_session().get_messages(member_ids=["agent-b"])) == ["u-m2", "a-m2"]


def test_empty_member_ids_turns_off_member_skipping_without_filtering() -> None:
    got = team_session().get_messages(member_ids=[])
    assert contents(got) == contents(team_session().get_messages(skip_member_messages=False))


def test_team_id_finds_team_runs_at_any_depth() -> None:
    nested = team_run("inner", *turn("inner"), team_id="sub-team", parent_run_id="outer")
    deeper = team_run("deepest", *turn("deep"), team_id="sub-team", parent_run_id="mid")
    mid = team_run("mid", *turn("mid"), team_id="mid-team", parent_run_id="outer", member_responses=[deeper])
    outer = team_run("outer", *turn("outer"), team_id="main", member_responses=[nested, mid])
    session = TeamSession(session_id="s", runs=[outer, team_run("other", *turn("x"), team_id="sub-team")])
    assert contents(session.get_messages(team_id="sub-team")) == [
        "u-inner",
        "a-inner",
        "u-deep",
        "a-deep",
        "u-x",
        "a-x",
    ]
    assert contents(session.get_messages(team_id="main")) == ["u-outer", "a-outer"]


def test_team_id_de_duplicates_runs_stored_twice() -> None:
    nested = team_run("inner", *turn("inner"), team_id="sub", parent_run_id="outer")
    outer = team_run("outer", *turn("outer"), team_id="main", member_responses=[nested])
    stored_again = team_run("inner", *turn("inner"), team_id="sub", parent_run_id="outer")
    session = TeamSession(session_id="s", runs=[stored_again, outer])
    assert contents(session.get_messages(team_id="sub")) == ["u-inner", "a-inner"]


def test_status_defaults_match_agent_sessions() -> None:
    session = TeamSession(
        session_id="s",
        runs=[
            team_run("t1", *turn("1")),
            team_run("t2", *turn("2"), status=RunStatus.REGENERATED),
            team_run("t3", *turn("3"), status=RunStatus.PAUSED),
        ],
    )
    assert contents(session.get_messages()) == ["u-1", "a-1"]
    assert contents(session.get_messages(skip_statuses=[])) == ["u-1", "a-1", "u-2", "a-2", "u-3", "a-3"]


def test_last_n_runs_and_limit_use_the_shared_window_rules() -> None:
    session = TeamSession(
        session_id="s",
        runs=[
            team_run(
                "t1", msg("system", "sys"), msg("user", "u"), msg("assistant", "call"), msg("tool", "t")
            ),
            team_run("t2", *turn("2")),
        ],
    )
    assert contents(session.get_messages(last_n_runs=1)) == ["u-2", "a-2"]
    assert session.get_messages(last_n_runs=0) == []
    assert contents(session.get_messages(limit=4)) == ["sys", "u-2", "a-2"]


def test_chat_history_omits_members_and_keeps_every_status() -> None:
    session = team_session()
    assert session.runs is not None
    session.runs.append(team_run("t3", msg("tool", "t"), *turn("t3"), status=RunStatus.ERROR))
    assert contents(session.get_chat_history()) == ["u-t1", "a-t1", "u-t2", "a-t2", "u-t3", "a-t3"]
    assert contents(session.get_chat_history(last_n_runs=1)) == ["u-t3", "a-t3"]


class Answer(BaseModel):
    text: str
    note: str | None = None


def history_session() -> TeamSession:
    def run(run_id: str, question: str, answer: object, **fields: object) -> TeamRunOutput:
        return TeamRunOutput(
            run_id=run_id,
            team_id=str(fields.pop("team_id", "team-1")),
            status=fields.pop("status", RunStatus.COMPLETED),
            input=TeamRunInput(input_content=question),
            content=answer,
            **fields,
        )

    return TeamSession(
        session_id="s",
        runs=[
            run("t1", "q1", "a1"),
            run("t2", "q2", "a2", status=RunStatus.ERROR),
            run("t3", "q3", "a3", parent_run_id="x"),
            run("t4", "q4", Answer(text="four")),
            run("t5", "q5", "a5", team_id="team-2"),
            run("t6", "", None),
        ],
    )


def test_team_history_uses_completed_top_level_runs() -> None:
    assert history_session().get_team_history() == [
        ("q1", "a1"),
        ("q4", '{\n  "text": "four"\n}'),
        ("q5", "a5"),
        ("", ""),
    ]


def test_team_history_filters_by_team_and_count() -> None:
    session = history_session()
    assert session.get_team_history(team_id="team-2") == [("q5", "a5")]
    assert session.get_team_history(num_runs=2) == [("q5", "a5"), ("", "")]
    assert session.get_team_history(num_runs=0) == []


def test_team_history_context_format() -> None:
    session = history_session()
    assert session.get_team_history_context(team_id="team-1", num_runs=2) == (
        '<team_history_context>\n[run-1]\ninput: q4\nresponse: {\n  "text": "four"\n}\n\n'
        "[run-2]\n\n</team_history_context>\n"
    )


@pytest.mark.parametrize("runs", [None, []])
def test_team_history_context_is_none_without_history(runs: list[TeamRunOutput] | None) -> None:
    assert TeamSession(session_id="s", runs=runs).get_team_history_context() is None
