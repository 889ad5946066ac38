"""One router per resource: sessions, runs, and the system endpoints."""
