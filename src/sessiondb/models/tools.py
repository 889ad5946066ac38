"""Tools a model may call: their JSON-schema definition, and the Python function behind them.

:func:`Function.from_callable` turns a plain (sync or async) Python function into a tool: the
name is the function's name, the description its docstring's first paragraph, and the
parameters schema comes from its type hints. Parameters named in :data:`INJECTED_PARAMETERS`
(``session_state``, ``agent``, ...) are filled by the runtime and never shown to the model.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

INJECTED_PARAMETERS: frozenset[str] = frozenset({"session_state", "agent", "team", "workflow"})
"""Parameter names the runtime fills in itself; a tool declares them to receive them.

The current session, user and run ids are in ``session_state`` (``current_session_id``, ...).
"""


class ToolArgumentsError(ValueError):
    """The model sent arguments that are not valid JSON or do not fit the tool's parameters."""


@dataclass(frozen=True)
class ToolDefinition:
    """What a model is told about a tool: its name, what it does, and its JSON-schema parameters."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    def to_openai(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry for this definition."""
        function: dict[str, Any] = {"name": self.name, "parameters": self.parameters}
        if self.description:
            function["description"] = self.description
        return {"type": "function", "function": function}


@dataclass
class Function:
    """A tool backed by a Python callable.

    Attributes:
        definition: what the model sees.
        entrypoint: the callable; may be a coroutine function.
        arguments_model: validates and converts the model's arguments.
        injected: the runtime-filled parameters the callable declares.
        effectful: the entrypoint returns a runtime generator rather than a value (used by the
            runtimes for tools that run other agents); ordinary tools leave it False.
    """

    definition: ToolDefinition
    entrypoint: Callable[..., Any]
    arguments_model: type[BaseModel]
    injected: frozenset[str] = frozenset()
    effectful: bool = False

    @property
    def name(self) -> str:
        """The tool's name."""
        return self.definition.name

    @property
    def is_async(self) -> bool:
        """Whether calling the entrypoint returns a coroutine."""
        return inspect.iscoroutinefunction(self.entrypoint)

    @classmethod
    def from_callable(
        cls,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        effectful: bool = False,
    ) -> Function:
        """Build a tool from a function's signature, type hints and docstring.

        Raises:
            TypeError: a parameter is variadic (``*args``/``**kwargs``) and cannot be described.
        """
        signature = inspect.signature(fn)
        hints = typing.get_type_hints(fn)
        fields: dict[str, Any] = {}
        injected: set[str] = set()
        for param in signature.parameters.values():
            if param.name in INJECTED_PARAMETERS:
                injected.add(param.name)
                continue
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise TypeError(f"tool {fn.__name__!r}: variadic parameter {param.name!r} is not supported")
            annotation = hints.get(param.name, Any)
            default = ... if param.default is param.empty else param.default
            fields[param.name] = (annotation, default)
        tool_name = name or fn.__name__
        model = create_model(f"{tool_name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)
        schema = model.model_json_schema()
        schema.pop("title", None)
        schema.setdefault("properties", {})
        for prop in schema["properties"].values():
            prop.pop("title", None)
        definition = ToolDefinition(tool_name, description or _first_paragraph(fn.__doc__), schema)
        return cls(definition, fn, model, frozenset(injected), effectful)

    def parse_arguments(self, arguments: str | Mapping[str, Any]) -> dict[str, Any]:
        """Decode and validate the model's arguments into keyword arguments for the entrypoint.

        Raises:
            ToolArgumentsError: the arguments are not a JSON object or do not fit the schema.
        """
        try:
            raw = orjson.loads(arguments or "{}") if isinstance(arguments, str) else dict(arguments)
        except orjson.JSONDecodeError as exc:
            raise ToolArgumentsError(f"tool {self.name!r}: arguments are not valid JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise ToolArgumentsError(f"tool {self.name!r}: arguments must be a JSON object")
        try:
            validated = self.arguments_model.model_validate(raw)
        except ValidationError as exc:
            raise ToolArgumentsError(f"tool {self.name!r}: {exc}") from exc
        return {name: getattr(validated, name) for name in type(validated).model_fields}

    def bind(self, arguments: str | Mapping[str, Any], context: Mapping[str, Any]) -> Callable[[], Any]:
        """A zero-argument callable that runs the tool with validated and injected arguments.

        Raises:
            ToolArgumentsError: see :meth:`parse_arguments`.
        """
        kwargs = self.parse_arguments(arguments)
        for name in self.injected:
            kwargs[name] = context.get(name)
        return lambda: self.entrypoint(**kwargs)


def as_function(tool: Function | Callable[..., Any]) -> Function:
    """Accept a ready :class:`Function` or wrap a plain callable."""
    return tool if isinstance(tool, Function) else Function.from_callable(tool)


def tool_result_text(value: Any) -> str:
    """Render a tool's return value as the text of a ``tool`` message."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:
        return str(value)


def _first_paragraph(doc: str | None) -> str:
    if not doc:
        return ""
    return inspect.cleandoc(doc).split("\n\n", 1)[0].replace("\n", " ").strip()


__all__ = [
    "INJECTED_PARAMETERS",
    "Function",
    "ToolArgumentsError",
    "ToolDefinition",
    "as_function",
    "tool_result_text",
]
