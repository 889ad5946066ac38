"""Session summaries: after each successful run, the model condenses the conversation.

The manager renders the session's user and assistant messages as ``User: ...`` /
``Assistant: ...`` lines inside ``<conversation>`` tags, appends them to its prompt, and asks
for structured output ``{summary, topics}`` (spec §5). A reply that is not valid JSON for
that shape still yields a summary: its text, without topics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, Field, ValidationError

from sessiondb.agent._effects import CallModel, Steps, drive, result_of
from sessiondb.models.base import Model, ModelResponse
from sessiondb.run.message import Message
from sessiondb.session import AgentSession, SessionSummary, TeamSession

DEFAULT_SUMMARY_PROMPT = """\
Analyze the following conversation between a user and an assistant, and extract the following details:
  - Summary (str): Provide a concise summary of the session, focusing on important information \
that would be helpful for future interactions.
  - Topics (Optional[List[str]]): List the topics discussed in the session.
Keep the summary concise and to the point. Only include relevant information.
"""

JSON_INSTRUCTION = (
    'Respond with a JSON object only, of the form {"summary": "<text>", "topics": ["<topic>", ...]}.'
)


class SessionSummaryResponse(BaseModel):
    """The structured output asked of the model."""

    summary: str = Field(
        description="Summary of the session. Be concise and focus on only important information."
    )
    topics: list[str] | None = Field(default=None, description="Topics discussed in the session.")


@dataclass(kw_only=True)
class SessionSummaryManager:
    """Writes session summaries.

    Attributes:
        model: the model that writes them; the runtime's own model when ``None``.
        session_summary_prompt: replaces the default instructions (the conversation is still
            appended).
        last_n_runs: summarise only the newest runs (``None``: all).
        conversation_limit: summarise only the newest messages (``None``: all).
    """

    model: Model | None = None
    session_summary_prompt: str | None = None
    last_n_runs: int | None = None
    conversation_limit: int | None = None

    def messages_for(self, session: AgentSession | TeamSession) -> list[Message]:
        """The system and user messages of a summary request for ``session``."""
        conversation = session.get_messages(last_n_runs=self.last_n_runs, limit=self.conversation_limit)
        prompt = (self.session_summary_prompt or DEFAULT_SUMMARY_PROMPT).rstrip("\n")
        rendered = render_conversation(conversation)
        text = f"{prompt}\n\n<conversation>\n{rendered}</conversation>\n\n{JSON_INSTRUCTION}"
        return [
            Message(role="system", content=text),
            Message(role="user", content="Provide the summary of the conversation."),
        ]

    def summarize_steps(self, session: AgentSession | TeamSession, model: Model) -> Steps[SessionSummary]:
        """Run logic that asks ``model`` (or :attr:`model`) for a summary of ``session``."""
        reply: ModelResponse = yield CallModel(
            self.model or model, self.messages_for(session), response_format=SessionSummaryResponse
        )
        return parse_summary(reply.content)

    def create_session_summary(self, session: AgentSession | TeamSession, model: Model) -> SessionSummary:
        """Summarise ``session`` now (blocking); the caller stores the result."""
        summary: SessionSummary = result_of(drive(self.summarize_steps(session, model)))
        return summary


def render_conversation(messages: Sequence[Message]) -> str:
    """``User: ...`` and ``Assistant: ...`` lines, one message each; other roles are left out."""
    lines: list[str] = []
    for message in messages:
        if message.role == "user":
            text = message.get_content_string()
            if not text and message.images:
                text = f"[Provided {len(message.images)} image(s)]"
            lines.append(f"User: {text}\n")
        elif message.role == "assistant" and message.content:
            lines.append(f"Assistant: {message.get_content_string()}\n")
    return "".join(lines)


def parse_summary(content: str | None) -> SessionSummary:
    """A :class:`SessionSummary` from the model's reply, stamped now.

    Valid JSON gives summary and topics; any other text becomes the summary as it is.
    """
    now = datetime.now(UTC)
    text = (content or "").strip()
    try:
        parsed = SessionSummaryResponse.model_validate_json(_strip_fences(text))
    except ValidationError:
        return SessionSummary(summary=text, topics=None, updated_at=now)
    return SessionSummary(summary=parsed.summary, topics=parsed.topics, updated_at=now)


def _strip_fences(text: str) -> str:
    # Models asked for JSON sometimes wrap it in a ```json fence.
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text.strip()


__all__ = ["SessionSummaryManager", "SessionSummaryResponse", "parse_summary", "render_conversation"]
