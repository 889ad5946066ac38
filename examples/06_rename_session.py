"""Rename a session: explicitly, then with a name the model generates (at most five words).

The seed cookbook example ``06_rename_session.py`` with sessiondb imports.

    .venv/bin/python examples/06_rename_session.py            # offline: TestModel + SQLite
    OPENAI_API_KEY=... .venv/bin/python examples/06_rename_session.py
    .venv/bin/sessiondb sessions show chat_history --db tmp/sessiondb_examples.db   # what it stored
"""

from _demo import demo_db, demo_model

from sessiondb.agent import Agent

db = demo_db(session_table="sessions")

agent = Agent(
    model=demo_model(),
    db=db,
    session_id="chat_history",
    instructions="You are a helpful assistant that can answer questions about space and oceans.",
    add_history_to_context=True,
)

agent.print_response("Tell me a new interesting fact about space")
agent.set_session_name(session_name="Interesting Space Facts")

session = agent.get_session(session_id=agent.session_id)
assert session is not None and session.session_data is not None
print(session.session_data.get("session_name"))

agent.set_session_name(autogenerate=True)
print(agent.get_session_name())
