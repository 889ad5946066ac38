"""Deterministic benchmark payloads as plain dicts, in the stored format Agno and sessiondb share.

A run is an agent run with a user and an assistant message, about 2 KB as JSON. Nothing here
imports sessiondb or Agno, so both the main suite and the Agno peer runner build identical data.
"""

from __future__ import annotations

import functools
import random
from typing import Any

AGENT_ID = "bench-agent"
BASE_TIME = 1_750_000_000
"""``created_at`` of the first generated session (unix seconds); later ones count up from it."""

_WORDS = (
    "session store agent run message history window index page cursor latency durable "
    "append read write table row column query plan cache token model reply answer context "
    "summary state metric user team workflow tool call result stream batch commit"
).split()


@functools.lru_cache(maxsize=65_536)
def text(seed: int, length: int) -> str:
    """A pseudo-random sentence of about ``length`` characters, the same for the same seed."""
    rng = random.Random(seed)
    words: list[str] = []
    size = 0
    while size < length:
        word = rng.choice(_WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:length]


def run_dict(session_id: str, user_id: str, index: int, *, created_at: int | None = None) -> dict[str, Any]:
    """The ``index``-th run of a session: one user and one assistant message, ~2 KB of JSON."""
    run_id = f"{session_id}-r{index:06d}"
    when = created_at if created_at is not None else BASE_TIME + index
    question = text(index, 190)
    answer = text(index + 1_000_003, 470)
    return {
        "run_id": run_id,
        "agent_id": AGENT_ID,
        "agent_name": "Bench Agent",
        "session_id": session_id,
        "user_id": user_id,
        "content": answer,
        "content_type": "str",
        "model": "gpt-4o-mini",
        "model_provider": "OpenAI",
        "created_at": when,
        "status": "COMPLETED",
        "metrics": {"input_tokens": 96, "output_tokens": 212, "total_tokens": 308, "duration": 1.25},
        "input": {"input_content": question},
        "messages": [
            {
                "id": f"{run_id}-m0",
                "role": "user",
                "content": question,
                "from_history": False,
                "stop_after_tool_call": False,
                "created_at": when,
            },
            {
                "id": f"{run_id}-m1",
                "role": "assistant",
                "content": answer,
                "from_history": False,
                "stop_after_tool_call": False,
                "metrics": {"input_tokens": 96, "output_tokens": 212, "total_tokens": 308},
                "created_at": when,
            },
        ],
    }


def session_name(index: int) -> str:
    """The explicit name of the ``index``-th listing session (the name filter searches these)."""
    topics = ("Trip planning", "Quarterly report", "Bug triage", "Recipe ideas", "Tax questions")
    return f"{topics[index % len(topics)]} #{index}"


SESSION_METADATA = {"source": "bench"}
"""The metadata of every listing session."""

NAME_FILTER = "report"
"""The substring the name-filter workload searches for (matches one name in five)."""
