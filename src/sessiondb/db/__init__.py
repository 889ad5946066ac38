"""Storage: the contract, its domain errors and the backends.

``SqliteDb`` and ``PostgresDb`` share one SQL implementation; ``InMemoryDb`` is the reference
backend for tests. Import them from here.
"""

from sessiondb.db.base import UNSET, SessionStore, Unset
from sessiondb.db.errors import (
    InvalidQuery,
    RunNotFound,
    SchemaNotReady,
    SessionAlreadyExists,
    SessionInTrash,
    SessionNotFound,
    SessionOwnedByAnotherUser,
    SessionTypeMismatch,
    StoreError,
    StoreUnavailable,
    VersionConflict,
)
from sessiondb.db.memory import InMemoryDb
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.query import Cursor, Page, SessionQuery
from sessiondb.db.sqlite import SqliteDb

__all__ = [
    "UNSET",
    "Cursor",
    "InMemoryDb",
    "InvalidQuery",
    "Page",
    "PostgresDb",
    "RunNotFound",
    "SchemaNotReady",
    "SessionAlreadyExists",
    "SessionInTrash",
    "SessionNotFound",
    "SessionOwnedByAnotherUser",
    "SessionQuery",
    "SessionStore",
    "SessionTypeMismatch",
    "SqliteDb",
    "StoreError",
    "StoreUnavailable",
    "Unset",
    "VersionConflict",
]
