"""An agent run (``RunOutput``) and its input."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from sessiondb.run.base import RunBase
from sessiondb.run.message import Message
from sessiondb.run.metrics import RunMetrics


class RunInput(BaseModel):
    """What an agent run was asked: the content plus any media."""

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True)

    input_content: Any | None = None
    images: list[Any] | None = None
    videos: list[Any] | None = None
    audios: list[Any] | None = None
    files: list[Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise, leaving out ``None`` values; a message input becomes its dict."""
        data = self.model_dump(mode="json", exclude_none=True, exclude={"input_content"})
        content = self.input_content
        if isinstance(content, Message):
            data["input_content"] = content.to_dict()
        elif isinstance(content, list) and content and all(isinstance(m, Message) for m in content):
            data["input_content"] = [m.to_dict() for m in content]
        elif isinstance(content, BaseModel):
            data["input_content"] = content.model_dump(mode="json")
        elif content is not None:
            data["input_content"] = content
        return data

    def input_content_string(self) -> str:
        """The input as text: strings as they are, anything else as JSON."""
        from sessiondb.run._text import to_text

        return to_text(self.input_content)


class _ModelRun(RunBase):
    """Fields an agent run and a team run share beyond :class:`RunBase`."""

    _custom_fields = RunBase._custom_fields | {"reasoning_messages", "additional_input", "metrics", "input"}

    reasoning_content: str | None = None
    reasoning_steps: list[Any] | None = None
    reasoning_messages: list[Message] | None = None
    model_provider_data: dict[str, Any] | None = None
    model: str | None = None
    model_provider: str | None = None
    metrics: RunMetrics | None = None
    additional_input: list[Message] | None = None
    tools: list[dict[str, Any]] | None = None
    citations: Any | None = None
    references: list[Any] | None = None
    followups: list[Any] | None = None
    requirements: list[Any] | None = None
    last_checkpoint_at_message_index: int | None = None
    forked_from_run_id: str | None = None
    forked_from_message_index: int | None = None
    forked_from_session_id: str | None = None
    regenerated_from: str | None = None
    compaction: dict[str, Any] | None = None
    workflow_id: str | None = None

    def _dump_extra(self, data: dict[str, Any]) -> None:
        if self.reasoning_messages is not None:
            data["reasoning_messages"] = [m.to_dict() for m in self.reasoning_messages]
        if self.additional_input is not None:
            data["additional_input"] = [m.to_dict() for m in self.additional_input]
        if self.metrics is not None:
            metrics = self.metrics.to_dict()
            if metrics:
                data["metrics"] = metrics


class RunOutput(_ModelRun):
    """One run of an agent: its input, messages, output, metrics and status.

    A new run starts ``RUNNING``. ``parent_run_id`` is set when the run belongs to a team
    member or a workflow step.
    """

    agent_id: str | None = None
    agent_name: str | None = None
    input: RunInput | None = None

    def _dump_extra(self, data: dict[str, Any]) -> None:
        super()._dump_extra(data)
        if self.input is not None:
            data["input"] = self.input.to_dict()


__all__ = ["RunInput", "RunOutput"]
