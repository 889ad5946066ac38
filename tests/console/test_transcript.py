"""How runs become the console's transcript (pure data shaping, no store)."""

from __future__ import annotations

from sessiondb.console.transcript import as_text, transcript, turns_of
from sessiondb.run.agent import RunInput, RunOutput
from sessiondb.run.message import Message


def test_history_copies_are_left_out_and_results_fold_into_their_calls() -> None:
    turns = turns_of(
        [
            Message(role="user", content="earlier question", from_history=True),
            Message(role="user", content="now"),
            Message(
                role="assistant",
                tool_calls=[{"id": "c1", "function": {"name": "add", "arguments": "[1, 2]"}}],
            ),
            Message(role="tool", tool_call_id="c1", content="3", tool_call_error=True),
            Message(role="tool", tool_call_id="unknown", tool_name="orphan", content="lost"),
        ]
    )
    assert [turn.role for turn in turns] == ["user", "assistant", "tool"]
    call = turns[1].tool_calls[0]
    assert (call.name, call.arguments, call.result, call.failed) == ("add", "[\n  1,\n  2\n]", "3", True)
    assert turns[2].tool_calls[0].name == "orphan" and turns[2].tool_calls[0].result == "lost"


def test_a_run_without_messages_shows_its_input_and_output() -> None:
    run = RunOutput(run_id="r", input=RunInput(input_content="asked"), content={"answer": 42})
    (view,) = transcript([run])
    assert [(turn.role, turn.text) for turn in view.turns] == [
        ("user", "asked"),
        ("assistant", '{\n  "answer": 42\n}'),
    ]


def test_newest_first_and_a_member_whose_parent_is_not_loaded_stands_alone() -> None:
    runs = [
        RunOutput(run_id="orphan-member", parent_run_id="gone"),
        RunOutput(run_id="team"),
        RunOutput(run_id="member", parent_run_id="team"),
        RunOutput(run_id="last"),
    ]
    views = transcript(runs)
    assert [view.run_id for view in views] == ["last", "team", "orphan-member"]
    assert [member.run_id for member in views[1].members] == ["member"]
    assert views[2].parent_run_id == "gone"


def test_as_text_of_values_json_cannot_hold() -> None:
    assert as_text(None) == "" and as_text("plain") == "plain"
    assert as_text({1: "a"}) == '{\n  "1": "a"\n}'
    assert as_text({1j}) == "{1j}"
