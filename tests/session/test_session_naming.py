"""Session-name derivation (spec §4 "Session name derivation")."""

from __future__ import annotations

from history_builders import agent_run, msg, team_run

from sessiondb.run import Message, RunInput, TeamRunInput, WorkflowRunOutput
from sessiondb.session import AgentSession, TeamSession, WorkflowSession
from sessiondb.session.naming import derive_name_from_run, derive_session_name, stringify_input


def test_explicit_name_wins() -> None:
    session = AgentSession(
        session_id="s", session_data={"session_name": "Mine"}, runs=[agent_run("r", msg("user", "hi"))]
    )
    assert derive_session_name(session) == "Mine"
    assert session.get_session_name() == "Mine"


def test_agent_name_is_the_first_user_message_with_content_of_the_first_run() -> None:
    session = AgentSession(
        session_id="s",
        runs=[
            agent_run(
                "r1", msg("system", "sys"), msg("user", ""), msg("user", "first words"), msg("user", "more")
            ),
            agent_run("r2", msg("user", "later")),
        ],
    )
    assert derive_session_name(session) == "first words"


def test_agent_name_falls_back_to_the_input_content() -> None:
    run = agent_run("r1", msg("assistant", "hello"), input=RunInput(input_content="typed input"))
    assert derive_session_name(AgentSession(session_id="s", runs=[run])) == "typed input"
    structured = agent_run("r1", input=RunInput(input_content={"q": 1}))
    assert derive_session_name(AgentSession(session_id="s", runs=[structured])) == '{\n  "q": 1\n}'


def test_agent_name_is_empty_without_runs_or_text() -> None:
    assert derive_session_name(AgentSession(session_id="s")) == ""
    assert derive_session_name(AgentSession(session_id="s", runs=[agent_run("r")])) == ""


def test_team_name_skips_member_agent_runs() -> None:
    session = TeamSession(
        session_id="s",
        runs=[
            agent_run("m1", msg("user", "member question"), agent_id="member"),
            team_run("t1", input=TeamRunInput(input_content="team question")),
        ],
    )
    assert derive_session_name(session) == "team question"


def test_workflow_name_from_first_run_input() -> None:
    def session(run_input: object) -> WorkflowSession:
        return WorkflowSession(
            session_id="s",
            workflow_data={"name": "Pipeline"},
            runs=[WorkflowRunOutput(input=run_input), WorkflowRunOutput(input="second")],
        )

    assert derive_session_name(session("start here")) == "start here"
    assert derive_session_name(session({"topic": "ai", "n": 2})) == '{"topic": "ai", "n": 2}'
    assert derive_session_name(session(None)) == "New Pipeline Session"
    assert derive_session_name(session(["a", "b"])) == "New Pipeline Session"


def test_workflow_name_without_runs_uses_the_workflow_name() -> None:
    assert derive_session_name(WorkflowSession(session_id="s", workflow_name="Flow")) == "New Flow Session"
    assert derive_session_name(WorkflowSession(session_id="s")) == ""


def test_name_is_not_derived_from_a_partial_run_list() -> None:
    session = AgentSession(session_id="s", runs=[agent_run("r9", msg("user", "late question"))])
    session._store_state.runs_complete = False
    assert derive_session_name(session) == ""


def test_derive_name_from_run_for_each_type() -> None:
    assert derive_name_from_run("agent", agent_run("r", msg("user", "hi"))) == "hi"
    assert derive_name_from_run("workflow", WorkflowRunOutput(input=3), "W") == "New W Session"


def test_stringify_input_variants() -> None:
    assert stringify_input("text") == "text"
    assert stringify_input([{"role": "user", "content": "from list"}]) == "from list"
    assert stringify_input([1, 2]) == "[1, 2]"
    assert stringify_input(7) == "7"
    rendered = stringify_input(Message(role="user", content="m", id="i", created_at=1))
    assert rendered.startswith('{"id": "i", "role": "user", "content": "m"')


def test_a_derived_name_leaves_out_u0000() -> None:
    # PostgreSQL's text columns cannot hold U+0000; the name is the same on every backend.
    assert derive_name_from_run("agent", agent_run("r", msg("user", "a\x00b"))) == "ab"
    assert derive_name_from_run("workflow", WorkflowRunOutput(input="x\x00y"), "W") == "xy"
