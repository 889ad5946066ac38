"""Generated session names: at most five words, retried, with a fallback (spec §5)."""

from __future__ import annotations

from sessiondb.agent._effects import CallModel, Steps
from sessiondb.models.base import Model, ModelResponse
from sessiondb.models.naming_prompt import naming_prompt
from sessiondb.run.message import Message
from sessiondb.session import Session

NAME_INSTRUCTION = (
    "Please provide a suitable name for this conversation in maximum 5 words. "
    "Remember, do not exceed 5 words."
)
MAX_WORDS = 5
MAX_RETRIES = 3
FALLBACK_NAME = "New Session"


def name_request(session: Session) -> list[Message]:
    """The messages that ask a model to name ``session``'s conversation."""
    lines = "".join(f"{m.role.upper()}: {m.get_content_string()}\n" for m in _conversation(session))
    return [
        Message(role="system", content=NAME_INSTRUCTION),
        Message(role="user", content=naming_prompt(lines)),
    ]


def _conversation(session: Session) -> list[Message]:
    if session.session_type == "workflow":
        return []
    return list(session.get_messages())


def generate_name_steps(session: Session, model: Model) -> Steps[str]:
    """Run logic that asks ``model`` for a name of at most five words.

    An empty reply is retried up to three times, then the name is ``"New Session"``; a reply
    longer than five words is retried, then cut to its first five words. Double quotes are
    stripped.
    """
    messages = name_request(session)
    name = ""
    for _ in range(1 + MAX_RETRIES):
        reply: ModelResponse = yield CallModel(model, messages)
        name = (reply.content or "").replace('"', "").strip()
        if name and len(name.split()) <= MAX_WORDS:
            return name
    if not name:
        return FALLBACK_NAME
    return " ".join(name.split()[:MAX_WORDS])


__all__ = ["FALLBACK_NAME", "generate_name_steps", "name_request"]
