"""Small builders for runs and messages used by the session history tests."""

from __future__ import annotations

from typing import Any

from sessiondb.run import Message, RunOutput, RunStatus, TeamRunOutput


def msg(role: str, content: Any = None, **fields: Any) -> Message:
    """A message with ``role``; ``content`` defaults to a text naming the role."""
    return Message(role=role, content=content if content is not None else f"{role} text", **fields)


def agent_run(
    run_id: str,
    *messages: Message,
    agent_id: str | None = "agent-1",
    status: RunStatus | str = RunStatus.COMPLETED,
    **fields: Any,
) -> RunOutput:
    """A completed agent run holding ``messages``."""
    return RunOutput(run_id=run_id, agent_id=agent_id, status=status, messages=list(messages), **fields)


def team_run(
    run_id: str,
    *messages: Message,
    team_id: str | None = "team-1",
    status: RunStatus | str = RunStatus.COMPLETED,
    **fields: Any,
) -> TeamRunOutput:
    """A completed team run holding ``messages``."""
    return TeamRunOutput(run_id=run_id, team_id=team_id, status=status, messages=list(messages), **fields)


def turn(tag: str) -> list[Message]:
    """A user message and an assistant reply, with contents ``"u-<tag>"`` and ``"a-<tag>"``."""
    return [msg("user", f"u-{tag}"), msg("assistant", f"a-{tag}")]


def contents(messages: list[Message]) -> list[Any]:
    """The contents of ``messages``, to compare results compactly."""
    return [m.content for m in messages]
