"""``python -m sessiondb.cli``: the same as the ``sessiondb`` command."""

from sessiondb._entry import main

main()
