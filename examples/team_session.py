"""A team session: the coordinator delegates to a member, and both runs land in one session.

The member's run is stored with ``parent_run_id`` pointing at the team run, so
``get_messages(member_ids=[...])`` finds it, while the team's own history leaves it out.

    .venv/bin/python examples/team_session.py            # offline: TestModel + SQLite
    OPENAI_API_KEY=... .venv/bin/python examples/team_session.py
"""

from _demo import demo_db, demo_model

from sessiondb.agent import Agent
from sessiondb.session import TeamSession
from sessiondb.team import Team

db = demo_db(session_table="sessions")

researcher = Agent(
    name="Researcher",
    role="Finds one surprising fact about the topic it is given",
    model=demo_model(reply="Octopuses have three hearts."),
)

team = Team(
    name="Fact Team",
    members=[researcher],
    # Offline, the coordinator delegates once, then answers with the member's reply.
    model=demo_model(
        call_tools=["delegate_task_to_member"],
        tool_args={"delegate_task_to_member": {"member_id": "researcher", "task": "A fact about octopuses"}},
    ),
    db=db,
    session_id="team_session_demo",
    add_history_to_context=True,
)

team.print_response("Ask the researcher for a fact about octopuses, then tell me.")

session = team.get_session()
assert isinstance(session, TeamSession)
kinds = [type(run).__name__ + (" (member)" if run.parent_run_id else "") for run in session.runs or []]
print("Runs in the team session:", ", ".join(kinds))
member_messages = session.get_messages(member_ids=["researcher"])
print("Researcher said:", member_messages[-1].content if member_messages else "nothing")
