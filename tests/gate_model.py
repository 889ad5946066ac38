"""A model double that waits at a gate: a run holds still mid-way until the test lets it go."""

from __future__ import annotations

import anyio

from sessiondb.models import FunctionModel, ModelRequest
from sessiondb.run.message import Message


class Gate:
    """``entered`` is set once a model call arrives; the call answers once ``release`` is set.

    Every call after the first answers at once (a released gate stays open).
    """

    def __init__(self) -> None:
        """A closed gate."""
        self.entered = anyio.Event()
        self.release = anyio.Event()

    async def answer(self, messages: list[Message], request: ModelRequest) -> str:
        """The model's reply: ``done: <message>``, once the gate is open."""
        self.entered.set()
        await self.release.wait()
        return f"done: {request.last_user_text()}"

    def model(self) -> FunctionModel:
        """A ``FunctionModel`` answering through this gate (async runs only)."""
        return FunctionModel(function=self.answer)


__all__ = ["Gate"]
