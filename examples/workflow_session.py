"""A workflow session: an agent step then a function step, with history fed to the steps.

Each run records its ``step_results`` and the agent's run in ``step_executor_runs``; with
``add_workflow_history_to_steps`` the second run's agent sees the first run.

    .venv/bin/python examples/workflow_session.py            # offline: TestModel + SQLite
    OPENAI_API_KEY=... .venv/bin/python examples/workflow_session.py
"""

from _demo import demo_db, demo_model

from sessiondb.agent import Agent
from sessiondb.workflow import Step, StepInput, Workflow

db = demo_db(session_table="sessions")

tutor = Agent(
    name="AI Tutor",
    model=demo_model(),
    instructions="You are a patient tutor. Build on what the student said before.",
)


def word_count(step_input: StepInput) -> str:
    """A plain function step: report on the tutor's answer."""
    answer = str(step_input.previous_step_content or "")
    return f"{answer}\n\n({len(answer.split())} words)"


workflow = Workflow(
    name="Simple AI Tutor",
    description="Single-step conversational tutoring with history awareness",
    db=db,
    steps=[Step(name="AI Tutoring", agent=tutor), word_count],
    session_id="workflow_session_demo",
    add_workflow_history_to_steps=True,
)

workflow.print_response("I'm struggling with calculus derivatives")
workflow.print_response("Can you give me an example?")

session = workflow.get_session()
assert session is not None
for index, run in enumerate(session.runs or [], start=1):
    print(f"Run {index}: {len(run.step_results)} steps, {len(run.step_executor_runs or [])} agent run(s)")
print(session.get_workflow_history_context(num_runs=1))
