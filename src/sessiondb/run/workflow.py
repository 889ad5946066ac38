"""A workflow run (``WorkflowRunOutput``), its step outputs and the runs its steps made."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sessiondb.run.agent import RunOutput
from sessiondb.run.base import RunBase
from sessiondb.run.metrics import WorkflowMetrics
from sessiondb.run.status import RunStatus, StatusField
from sessiondb.run.team import TeamRunOutput


class StepOutput(BaseModel):
    """What one workflow step produced. Nested ``steps`` hold the outputs of grouped steps."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    step_name: str | None = None
    step_id: str | None = None
    step_type: str | None = None
    executor_type: str | None = None
    executor_name: str | None = None
    content: Any | None = None
    step_run_id: str | None = None
    images: list[Any] | None = None
    videos: list[Any] | None = None
    audio: list[Any] | None = None
    files: list[Any] | None = None
    metrics: dict[str, Any] | None = None
    success: bool = True
    error: str | None = None
    stop: bool = False
    steps: list[StepOutput] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise, leaving out ``None`` values."""
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepOutput:
        """Build a step output from a stored dict."""
        return cls.model_validate(data)


class WorkflowRunOutput(RunBase):
    """One run of a workflow. A new workflow run starts ``PENDING``.

    ``step_executor_runs`` holds the agent and team runs its steps made; each has
    ``parent_run_id`` set to this run's id.
    """

    _custom_fields = RunBase._custom_fields | {"step_results", "step_executor_runs", "metrics"}

    input: Any | None = None
    workflow_id: str | None = None
    workflow_name: str | None = None
    status: StatusField = RunStatus.pending
    step_results: list[StepOutput | list[StepOutput]] = Field(default_factory=list)
    step_executor_runs: list[RunOutput | TeamRunOutput | WorkflowRunOutput] | None = None
    workflow_agent_run: dict[str, Any] | None = None
    metrics: WorkflowMetrics | None = None
    step_requirements: list[Any] | None = None
    error_requirements: list[Any] | None = None
    paused_step_index: int | None = None
    paused_step_name: str | None = None
    pause_kind: str | None = None

    @field_validator("step_executor_runs", mode="before")
    @classmethod
    def _classify_executor_runs(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [classify_run(item) for item in value]

    def _dump_extra(self, data: dict[str, Any]) -> None:
        if self.step_results:
            data["step_results"] = [
                [step.to_dict() for step in item] if isinstance(item, list) else item.to_dict()
                for item in self.step_results
            ]
        if self.step_executor_runs is not None:
            data["step_executor_runs"] = [run.to_dict() for run in self.step_executor_runs]
        if self.metrics is not None:
            metrics = self.metrics.to_dict()
            if metrics:
                data["metrics"] = metrics


AnyRun = RunOutput | TeamRunOutput | WorkflowRunOutput


def run_class(item: dict[str, Any]) -> type[AnyRun]:
    """The class of a stored step-executor run dict: workflow, then team, then agent."""
    if "workflow_id" in item and "agent_id" not in item and "team_id" not in item:
        return WorkflowRunOutput
    if "team_id" in item:
        return TeamRunOutput
    return RunOutput


def classify_run(item: Any) -> Any:
    """Turn a stored run dict into the right run class: workflow, then team, then agent."""
    if not isinstance(item, dict):
        return item
    return run_class(item).from_dict(item)


__all__ = ["AnyRun", "StepOutput", "WorkflowRunOutput", "classify_run", "run_class"]
