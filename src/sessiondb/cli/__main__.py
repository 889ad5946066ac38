"""``python -m sessiondb.cli``: the same as the ``sessiondb`` command."""

from sessiondb.cli import app

app()
