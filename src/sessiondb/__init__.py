"""sessiondb: durable sessions for AI agents, teams and workflows."""

__version__ = "0.1.0"
