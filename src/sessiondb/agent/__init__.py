"""Agents whose runs are recorded as sessions, and what agents, teams and workflows share."""

from sessiondb.agent.agent import Agent
from sessiondb.agent.events import RunEvent
from sessiondb.agent.summary import SessionSummaryManager
from sessiondb.run.agent import RunOutput

__all__ = ["Agent", "RunEvent", "RunOutput", "SessionSummaryManager"]
