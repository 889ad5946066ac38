"""Which file a SQLite store has open, and noticing when that file is deleted or replaced."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL

from sessiondb.db.errors import StoreUnavailable


def database_path(url: URL) -> Path | None:
    """The file a SQLite URL opens, or ``None`` for an in-memory database."""
    if url.database in (None, "", ":memory:") or url.query.get("mode") == "memory":
        return None
    database = url.database
    if database.startswith("file:"):
        # A URI filename (``?uri=true``): the path is what comes before its own query.
        database = database.removeprefix("file:").partition("?")[0]
    return Path(database)


class FileIdentity:
    """The database file a store opened, by device and inode, to notice it being swapped.

    A connection keeps the file it opened even after that file is deleted or replaced: writes
    through it would be acknowledged and then be lost with the orphaned file, and a new
    connection would create an empty database in its place. One ``stat`` per call (a few µs)
    notices either first.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.identity: tuple[int, int] | None = None

    def check(self, where: str) -> None:
        """Record the file on first sight; raise if it is missing or another file later.

        Raises:
            StoreUnavailable: the file is missing, replaced, or cannot be examined.
        """
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            if self.identity is None:
                return  # not created yet: the first connection creates it
            raise StoreUnavailable(
                f"{where}: the database file {self.path} is missing: it was deleted or moved while "
                "in use, so nothing more is written (it would be lost with the deleted file). "
                "Restore the file, then restart"
            ) from None
        except OSError as error:
            raise StoreUnavailable(
                f"{where}: cannot examine the database file {self.path}: {error}"
            ) from None
        identity = (found.st_dev, found.st_ino)
        if self.identity is None:
            self.identity = identity
        elif identity != self.identity:
            raise StoreUnavailable(
                f"{where}: the database file {self.path} was replaced by another file while in use "
                "(its inode changed), so nothing more is written to the old one. Restart to open "
                "the new file"
            )
