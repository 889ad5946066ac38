"""Tools from Python functions: schema from type hints, validation, injection."""

from __future__ import annotations

from typing import Any

import pytest

from sessiondb.models.tools import Function, ToolArgumentsError, as_function, tool_result_text


def search(query: str, limit: int = 5, session_state: dict[str, Any] | None = None) -> list[str]:
    """Search the catalogue.

    Longer explanation that is not part of the description.
    """
    assert session_state is not None
    session_state["searched"] = query
    return [query] * limit


def test_schema_comes_from_hints_and_docstring() -> None:
    tool = Function.from_callable(search)
    assert tool.definition.name == "search"
    assert tool.definition.description == "Search the catalogue."
    assert tool.definition.parameters == {
        "type": "object",
        "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "default": 5}},
        "required": ["query"],
        "additionalProperties": False,
    }
    assert tool.injected == frozenset({"session_state"})
    assert tool.definition.to_openai()["function"]["name"] == "search"


def test_bind_validates_converts_and_injects() -> None:
    state: dict[str, Any] = {}
    run = Function.from_callable(search).bind('{"query": "tea", "limit": "2"}', {"session_state": state})
    assert run() == ["tea", "tea"]
    assert state == {"searched": "tea"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("not json", "not valid JSON"),
        ("[1]", "must be a JSON object"),
        ('{"limit": 1}', "query"),
        ('{"query": "x", "extra": 1}', "extra"),
    ],
)
def test_bad_arguments_raise_tool_arguments_error(arguments: str, message: str) -> None:
    with pytest.raises(ToolArgumentsError, match=message):
        Function.from_callable(search).parse_arguments(arguments)


def test_variadic_parameters_are_refused() -> None:
    def loose(*args: int) -> None:
        """Loose."""

    with pytest.raises(TypeError, match="variadic"):
        Function.from_callable(loose)


async def test_async_functions_are_flagged() -> None:
    async def fetch(url: str) -> str:
        """Fetch."""
        return url

    tool = as_function(fetch)
    assert tool.is_async and as_function(tool) is tool
    assert await tool.bind({"url": "u"}, {})() == "u"


def test_results_become_text() -> None:
    assert tool_result_text(None) == ""
    assert tool_result_text("x") == "x"
    assert tool_result_text({"a": [1, 2]}) == '{"a":[1,2]}'
    assert tool_result_text(3) == "3"
