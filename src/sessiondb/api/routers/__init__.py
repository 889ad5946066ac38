"""One router per resource: sessions, runs, the system endpoints, and agents, teams, workflows."""
