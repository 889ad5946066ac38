"""Teams: a coordinator model delegating to member agents, recorded as team sessions."""

from sessiondb.run.team import TeamRunOutput
from sessiondb.team.team import Team

__all__ = ["Team", "TeamRunOutput"]
