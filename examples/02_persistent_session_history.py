"""Persistent session history: the agent remembers the last two runs of its session.

The seed cookbook example ``02_persistent_session_history.py`` with sessiondb imports. Run it
twice: the second time the session already holds the earlier runs, and they are replayed to
the model as history.

    .venv/bin/python examples/02_persistent_session_history.py            # offline: TestModel + SQLite
    OPENAI_API_KEY=... .venv/bin/python examples/02_persistent_session_history.py
    .venv/bin/sessiondb sessions list --db tmp/sessiondb_examples.db   # what it stored
"""

from _demo import demo_db, demo_model

from sessiondb.agent import Agent

db = demo_db(session_table="sessions")

agent = Agent(
    model=demo_model(),
    db=db,
    session_id="session_storage",
    add_history_to_context=True,
    num_history_runs=2,
)

agent.print_response("Tell me a new interesting fact about space")
agent.print_response("Tell me another one, different from the last")

history = agent.get_chat_history()
print(f"Session {agent.session_id!r} holds {len(history)} user/assistant messages.")
