"""Workflows: agents, teams and functions run in order, recorded as workflow sessions."""

from sessiondb.run.workflow import StepOutput, WorkflowRunOutput
from sessiondb.workflow.step import Step, StepInput
from sessiondb.workflow.workflow import Workflow

__all__ = ["Step", "StepInput", "StepOutput", "Workflow", "WorkflowRunOutput"]
