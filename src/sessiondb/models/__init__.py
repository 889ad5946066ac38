"""Chat models: the interface, ``OpenAIChat``, and the ``TestModel``/``FunctionModel`` test doubles.

``OpenAIChat`` is imported on first use, so that code running offline never pays for importing
the ``openai`` SDK. ``FakeOpenAIServer`` (in :mod:`sessiondb.models.fake_server`) is a local
OpenAI-compatible server for tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sessiondb.models.base import Model, ModelResponse, StreamItem, TextDelta, ToolCall
from sessiondb.models.function import FunctionModel, ModelRequest
from sessiondb.models.test import TestModel
from sessiondb.models.tools import Function, ToolArgumentsError, ToolDefinition

if TYPE_CHECKING:
    from sessiondb.models.openai import OpenAIChat


def __getattr__(name: str) -> Any:
    if name == "OpenAIChat":
        from sessiondb.models.openai import OpenAIChat

        return OpenAIChat
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Function",
    "FunctionModel",
    "Model",
    "ModelRequest",
    "ModelResponse",
    "OpenAIChat",
    "StreamItem",
    "TestModel",
    "TextDelta",
    "ToolArgumentsError",
    "ToolCall",
    "ToolDefinition",
]
