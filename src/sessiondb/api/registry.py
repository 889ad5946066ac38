"""The databases a server serves, and how a request's ``db_id`` and ``table`` pick one (spec §4).

Several stores may share one ``db_id`` when they differ by session table; ``table`` then
chooses among them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from fastapi import HTTPException, status

from sessiondb.db.base import SessionStore

StoresArg = SessionStore | Iterable[SessionStore] | Mapping[str, SessionStore]
"""What ``create_app(dbs=...)`` accepts: one store, a list of stores (each has ``.id``), or id → store."""


def session_table_of(store: SessionStore) -> str | None:
    """The name of the store's session table, when the backend has one (SQL backends do)."""
    name = getattr(store, "session_table_name", None)
    return name if isinstance(name, str) else None


def table_labels(store: SessionStore) -> tuple[str, ...]:
    """The values of ``table`` that select the store: its session table, bare and schema-qualified."""
    name = session_table_of(store)
    if name is None:
        return ()
    schema = getattr(getattr(store, "table_names", None), "schema", None)
    return (name, f"{schema}.{name}") if isinstance(schema, str) else (name,)


class StoreRegistry:
    """The stores of one server, grouped by ``db_id`` in registration order."""

    def __init__(self, dbs: StoresArg) -> None:
        """Group ``dbs`` by id.

        Raises:
            ValueError: ``dbs`` holds no store, or an item is not a store.
        """
        self._by_id: dict[str, list[SessionStore]] = {}
        if isinstance(dbs, SessionStore):
            pairs: Iterable[tuple[str, SessionStore]] = [(dbs.id, dbs)]
        elif isinstance(dbs, Mapping):
            pairs = dbs.items()
        else:
            pairs = [(store.id, store) for store in dbs]
        for db_id, store in pairs:
            if not isinstance(store, SessionStore):
                raise ValueError(f"dbs must hold SessionStore objects, not {type(store).__name__}")
            self._by_id.setdefault(db_id, []).append(store)
        if not self._by_id:
            raise ValueError("create_app needs at least one database (dbs=...)")

    def ids(self) -> list[str]:
        """Every ``db_id`` served, in registration order."""
        return list(self._by_id)

    def items(self) -> list[tuple[str, SessionStore]]:
        """Every ``(db_id, store)`` pair, in registration order."""
        return [(db_id, store) for db_id, stores in self._by_id.items() for store in stores]

    def tables(self, db_id: str) -> list[str]:
        """The session tables served under ``db_id``."""
        return [name for store in self._by_id.get(db_id, []) if (name := session_table_of(store))]

    def replace(self, db_id: str, stores: list[SessionStore]) -> None:
        """Serve ``stores`` under ``db_id`` from now on (a database found once it came up).

        One assignment, so a request resolves against the old list or the new one, never a mix.

        Raises:
            ValueError: ``stores`` is empty.
        """
        if not stores:
            raise ValueError(f"db_id {db_id!r} needs at least one store")
        self._by_id[db_id] = list(stores)

    def resolve(self, db_id: str | None = None, table: str | None = None) -> SessionStore:
        """The store a request names, following Agno's rules.

        Raises:
            HTTPException: 400 when ``table`` comes without ``db_id`` or several databases are
                served and ``db_id`` is missing; 404 when the id or the table is unknown.
        """
        if table and not db_id:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, "The db_id query parameter is required when passing a table"
            )
        if db_id is None:
            if len(self._by_id) > 1:
                raise HTTPException(
                    status.HTTP_400_BAD_REQUEST,
                    "The db_id query parameter is required when using multiple databases",
                )
            return next(iter(self._by_id.values()))[0]
        stores = self._by_id.get(db_id)
        if not stores:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No database found with id '{db_id}'")
        if not table:
            return stores[0]
        for store in stores:
            if table in table_labels(store):
                return store
        tables = ", ".join(label for store in stores for label in table_labels(store)[-1:])
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"No database with id '{db_id}' has table '{table}'; its tables: {tables or 'none'}",
        )
