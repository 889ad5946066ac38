"""The shape of the request that asks a model to name a conversation, shared by the runtimes
(which send it, :mod:`sessiondb.agent.naming`) and the offline test double (which answers it)."""

from __future__ import annotations

import re

CONVERSATION_HEADER = "Conversation\n"
NAME_QUESTION = "Conversation Name: "
_USER_LINE = re.compile(r"^USER: (.*)$", re.M)
_FILLER = frozenset(
    "a an the me my us please tell give show can could would you i we "
    "what whats how is are do does new".split()
)
MAX_NAME_WORDS = 4


def naming_prompt(lines: str) -> str:
    """The user message asking for a name, around the ``ROLE: text`` lines of the conversation."""
    return f"{CONVERSATION_HEADER}{lines}\n\n{NAME_QUESTION}"


def is_naming_prompt(text: str) -> bool:
    """Whether ``text`` is a :func:`naming_prompt`."""
    return text.startswith(CONVERSATION_HEADER) and text.rstrip().endswith(NAME_QUESTION.rstrip())


def short_name(prompt: str) -> str:
    """A short title from the first user line of a naming prompt, as a model would give one.

    The leading filler words of the request are dropped and the next few words title-cased:
    "Tell me a new interesting fact about space" becomes "Interesting Fact About Space".
    """
    found = _USER_LINE.search(prompt)
    words = re.findall(r"[\w'-]+", found.group(1) if found else "")
    while words and words[0].lower() in _FILLER:
        words.pop(0)
    return " ".join(word.capitalize() for word in words[:MAX_NAME_WORDS]) or "New Conversation"
