"""Helpers the test-double models share: the request record and a deterministic token count."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from sessiondb.models.tools import ToolDefinition
from sessiondb.run.message import Message
from sessiondb.run.metrics import MessageMetrics


@dataclass
class ModelRequest:
    """One request a test double received, kept so tests can assert what a runtime sent.

    Attributes:
        messages: copies of the messages, oldest first.
        tools: the tools offered.
        response_format: the schema asked for, if any.
        index: 0 for the double's first request, 1 for the next, ...
    """

    messages: list[Message]
    tools: Sequence[ToolDefinition] = field(default_factory=list)
    response_format: type[BaseModel] | None = None
    index: int = 0

    @property
    def tool_names(self) -> list[str]:
        """The names of the tools offered."""
        return [tool.name for tool in self.tools]

    def last_user_text(self) -> str:
        """The text of the last user message, or ``""``."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.get_content_string()
        return ""


def record(
    log: list[ModelRequest],
    messages: Sequence[Message],
    tools: Sequence[ToolDefinition],
    response_format: type[BaseModel] | None,
) -> ModelRequest:
    """Append a :class:`ModelRequest` to ``log`` and return it."""
    request = ModelRequest(
        [m.model_copy(deep=True) for m in messages], list(tools), response_format, len(log)
    )
    log.append(request)
    return request


def count_words(text: str | None) -> int:
    """A deterministic stand-in for a tokenizer: the number of whitespace-separated words."""
    return len(text.split()) if text else 0


def estimate_usage(messages: Sequence[Message], output: str | None, extra_output: int = 0) -> MessageMetrics:
    """Deterministic usage: words in the input messages, words (plus ``extra_output``) in the reply."""
    input_tokens = sum(count_words(m.get_content_string()) for m in messages)
    output_tokens = count_words(output) + extra_output
    return MessageMetrics(
        input_tokens=input_tokens, output_tokens=output_tokens, total_tokens=input_tokens + output_tokens
    )


def split_for_stream(text: str) -> list[str]:
    """Cut a reply into word-sized pieces (whitespace kept) to simulate streaming."""
    return re.findall(r"\S+\s*|\s+", text)
