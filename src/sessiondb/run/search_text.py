"""The text of a run that full-text search indexes, shared by every backend (pure, no I/O)."""

from __future__ import annotations

import re

from sessiondb.run._text import to_text
from sessiondb.run.workflow import AnyRun, WorkflowRunOutput

MAX_SEARCH_CHARS = 100_000
"""Characters of a run that are indexed; the rest is not searchable.

PostgreSQL refuses a ``tsvector`` over 1 MB, which a run of a few hundred thousand distinct
words would reach; a bound on the text keeps every write storable on every backend.
"""

SEARCHED_ROLES = ("user", "assistant")

# C0 controls other than tab and newline, and DEL: PostgreSQL refuses NUL in text, and the
# snippet marks use U+0002/U+0003 (see sessiondb.db.search), so none may reach an index.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def searchable_text(run: AnyRun) -> str:
    """What full-text search finds a run by: its user and assistant messages, or its input and output.

    An agent or team run contributes the text of its own user and assistant messages (messages
    copied from history belong to earlier runs and are skipped); when it has no user message its
    input stands in, and when it has no assistant message its content does. A workflow run
    contributes its input and content. Control characters become spaces, and the text is cut at
    :data:`MAX_SEARCH_CHARS`.
    """
    if isinstance(run, WorkflowRunOutput):
        parts = [to_text(run.input), to_text(run.content)]
    else:
        parts = _message_parts(run)
    text = "\n".join(part for part in parts if part)
    return _CONTROL.sub(" ", text[:MAX_SEARCH_CHARS])


def _message_parts(run: AnyRun) -> list[str]:
    roles: set[str] = set()
    parts: list[str] = []
    for message in run.messages or []:
        if message.role in SEARCHED_ROLES and not message.from_history:
            roles.add(message.role)
            parts.append(message.get_content_string())
    if "user" not in roles:
        run_input = getattr(run, "input", None)
        parts.insert(0, to_text(getattr(run_input, "input_content", run_input)))
    if "assistant" not in roles:
        parts.append(to_text(run.content))
    return parts


__all__ = ["MAX_SEARCH_CHARS", "searchable_text"]
