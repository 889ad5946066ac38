"""Building runs from dicts a store wrote itself, without re-validating them.

A stored run is the ``to_dict()`` of a run that pydantic already validated, so validating it
again on every read only repeats work: it was 65% of reading a whole session. These functions
build the same objects directly: each field's value is set as decoded from JSON, nested
models (messages, metrics, inputs, member and step runs, step outputs) are built the same
way, known status strings become :class:`RunStatus` members, missing fields take their
defaults and unknown keys are kept or dropped as each model's ``extra`` setting says.

Use them ONLY for dicts a sessiondb store wrote (its own rows): nothing is checked. Anything
else (user input, HTTP bodies, imported files) goes through the validating ``from_dict``.
A property test checks that both paths build equal objects.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

from sessiondb.run.agent import RunInput, RunOutput, _ModelRun
from sessiondb.run.base import RunBase
from sessiondb.run.message import Message
from sessiondb.run.metrics import MessageMetrics, RunMetrics, WorkflowMetrics
from sessiondb.run.status import RunStatus
from sessiondb.run.team import TeamRunInput, TeamRunOutput, member_class
from sessiondb.run.workflow import StepOutput, WorkflowRunOutput, run_class

Model = TypeVar("Model", bound=BaseModel)
Converter = Callable[[Any], Any]

_IMMUTABLE = (type(None), bool, int, float, str, bytes, Enum, frozenset, tuple)


@dataclass(frozen=True)
class _Plan:
    """How to build one model class.

    Attributes:
        defaults: every field with a constant default, in field order (copied per object,
            so that ``__dict__`` keeps pydantic's field order).
        factories: the fields whose default is made per object (factories, mutable values).
        converters: the fields holding nested models, and how to build them (a converter
            also sees a constant default that is not ``None``; the status one keeps it).
        allow_extra: whether unknown keys are kept (``extra="allow"``) or dropped.
    """

    defaults: dict[str, Any]
    factories: tuple[tuple[str, Callable[[], Any]], ...]
    converters: tuple[tuple[str, Converter], ...]
    allow_extra: bool


_PLANS: dict[type[BaseModel], _Plan] = {}


def _plan(cls: type[BaseModel]) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    if cls.__private_attributes__:
        raise TypeError(f"{cls.__name__} has private attributes; the trusted path does not set them")
    converters: dict[str, Converter] = {}
    # Base classes first, so that a subclass's converter for a field wins.
    for klass in reversed(cls.__mro__):
        converters.update(_CONVERTERS.get(klass, {}))
    defaults: dict[str, Any] = {}
    factories: list[tuple[str, Callable[[], Any]]] = []
    for name, info in cls.model_fields.items():
        defaults[name] = None  # a placeholder that keeps the field's position
        factory = info.default_factory
        default = info.default
        if factory is not None:
            factories.append((name, factory))  # type: ignore[arg-type]
        elif isinstance(default, _IMMUTABLE):
            defaults[name] = default
        else:
            # pydantic copies a mutable default for each instance; so does this.
            factories.append((name, functools.partial(copy.deepcopy, default)))
    allow_extra = cls.model_config.get("extra") == "allow"
    plan = _Plan(defaults, tuple(factories), tuple(converters.items()), allow_extra)
    _PLANS[cls] = plan
    return plan


def build_trusted(cls: type[Model], data: Mapping[str, Any]) -> Model:
    """Build ``cls`` from ``data`` (a dict its ``to_dict`` produced and JSON round-tripped).

    The object equals ``cls.from_dict(data)``, with the same set fields and extra keys.
    """
    plan = _PLANS.get(cls) or _plan(cls)
    defaults = plan.defaults
    # Set-and-dict operations in C, rather than a Python loop over every field.
    values = defaults.copy()
    values.update(data)
    fields_set = set(data)
    extra: dict[str, Any] | None = {} if plan.allow_extra else None
    if len(values) != len(defaults):
        # Unknown keys: pydantic keeps them as extras (counted as set fields) or drops them.
        unknown = {key: value for key, value in data.items() if key not in defaults}
        for key in unknown:
            del values[key]
        if extra is not None:
            extra = unknown
        else:
            fields_set.difference_update(unknown)
    for key, convert in plan.converters:
        value = values[key]
        if value is not None:
            values[key] = convert(value)
    for name, factory in plan.factories:
        if name not in fields_set:
            values[name] = factory()
    model = cls.__new__(cls)
    # What pydantic's own model_construct sets, without its per-field Python overhead.
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(model, "__pydantic_fields_set__", fields_set)
    object.__setattr__(model, "__pydantic_extra__", extra)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


def _status(value: Any) -> Any:
    # As RunBase's validator: a known string becomes the member, an unknown one stays.
    if isinstance(value, str) and not isinstance(value, RunStatus):
        try:
            return RunStatus(value)
        except ValueError:
            return value
    return value


def _each(cls: type[BaseModel]) -> Converter:
    def convert(items: Any) -> Any:
        return [build_trusted(cls, item) if isinstance(item, dict) else item for item in items]

    return convert


def _one(cls: type[BaseModel]) -> Converter:
    def convert(item: Any) -> Any:
        return build_trusted(cls, item) if isinstance(item, dict) else item

    return convert


def _classified(classify: Callable[[dict[str, Any]], type[BaseModel]]) -> Converter:
    def convert(items: Any) -> Any:
        return [build_trusted(classify(item), item) if isinstance(item, dict) else item for item in items]

    return convert


def _step_results(items: Any) -> Any:
    step = _one(StepOutput)
    return [[step(part) for part in item] if isinstance(item, list) else step(item) for item in items]


_CONVERTERS: dict[type[BaseModel], dict[str, Converter]] = {
    RunBase: {"status": _status, "messages": _each(Message)},
    _ModelRun: {
        "reasoning_messages": _each(Message),
        "additional_input": _each(Message),
        "metrics": _one(RunMetrics),
    },
    RunOutput: {"input": _one(RunInput)},
    TeamRunOutput: {"input": _one(TeamRunInput), "member_responses": _classified(member_class)},
    WorkflowRunOutput: {
        "step_results": _step_results,
        "step_executor_runs": _classified(run_class),
        "metrics": _one(WorkflowMetrics),
    },
    Message: {"metrics": _one(MessageMetrics)},
    StepOutput: {"steps": _each(StepOutput)},
}
"""Per class, the fields holding nested models and how to build them (inherited by subclasses)."""


__all__ = ["build_trusted"]
