"""Hot statements compiled once per dialect and run straight through the DBAPI cursor.

``Connection.execute`` spends more time per call than the driver does on the statements an
agent turn sends (a key-lookup ``SELECT``, a one-row ``UPDATE``/``INSERT``): cache-key
generation, execution context, result wrapping, ``RowMapping``. Here a statement is compiled
by SQLAlchemy once per dialect (:func:`compiled_for`), so the SQL text is exactly what
SQLAlchemy would send, and then runs on the pooled connection's driver cursor. SQLAlchemy
still owns the connection and the transaction (``BEGIN IMMEDIATE`` on SQLite, the isolation
level on PostgreSQL, commit and rollback).

Two things keep the shortcut invisible:

- A driver error is handed to SQLAlchemy's own error handling, so it is wrapped in the same
  ``sqlalchemy.exc`` class (which ``translated_errors`` turns into a domain error), a
  disconnect invalidates the connection and the pool, and ``handle_error`` hooks run.
- When anything listens to ``before_cursor_execute``/``after_cursor_execute`` (tracing,
  statement counting in tests) or the engine logs SQL, the statement goes through
  ``exec_driver_sql`` instead, so every listener still sees it; with a
  ``schema_translate_map`` it goes through ``Connection.execute``.

Values are converted as SQLAlchemy would: the bind processors of the statement's types
(constant binds, e.g. a JSON path, are converted once) and the result processors of its
columns (on SQLite, JSON columns arrive as text and are decoded; psycopg decodes JSONB itself).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.base import OptionEngine
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable, ReturnsRows

Row = tuple[Any, ...]
MISSING: Any = object()
"""A bind with no constant value (:attr:`Compiled.plan`)."""
Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class Compiled:
    """One statement compiled for one dialect, with what binding and decoding need.

    Attributes:
        sql: the statement's text, as SQLAlchemy sends it.
        names: the bind names (in positional order for a positional paramstyle).
        positional: whether the driver takes a tuple (``?``) rather than a dict (``%(name)s``).
        fixed: converted values of the binds the statement itself holds (constants).
        converters: ``(name, processor)`` for the caller's values that need converting.
        keys: the names of the result columns.
        decoders: ``(column position, processor)`` for the result columns that need decoding.
    """

    sql: str
    names: tuple[str, ...]
    positional: bool
    fixed: Mapping[str, Any]
    converters: tuple[tuple[str, Processor], ...]
    keys: tuple[str, ...]
    decoders: tuple[tuple[int, Processor], ...]
    plan: tuple[tuple[str, Any, Processor | None], ...]
    """Per driver parameter, in :attr:`names` order: ``(name, fixed value or MISSING, converter)``,
    so that :meth:`parameters` makes the driver's values in one pass."""

    @classmethod
    def of(cls, statement: ClauseElement, dialect: Dialect) -> Compiled:
        """Compile ``statement`` for ``dialect``.

        Raises:
            ValueError: the statement needs per-execution rendering (an expanding ``IN``, a
                bind name the dialect escapes), which a fixed text cannot carry.
        """
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        sql = compiled.string
        if "__[POSTCOMPILE_" in sql or getattr(compiled, "escaped_bind_names", None):
            raise ValueError(f"statement needs rendering at each execution: {sql}")
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        fixed: dict[str, Any] = {}
        converters: list[tuple[str, Processor]] = []
        for name, bind in binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required:
                if processor is not None:
                    converters.append((name, processor))
                continue
            value = bind.effective_value
            fixed[name] = processor(value) if processor is not None and value is not None else value
        positions = compiled.positiontup
        columns = statement.exported_columns if isinstance(statement, ReturnsRows) else None
        keys: list[str] = []
        decoders: list[tuple[int, Processor]] = []
        for position, (key, column) in enumerate((columns or {}).items()):
            keys.append(key)
            decode = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if decode is not None:
                decoders.append((position, decode))
        names = tuple(positions or ()) if compiled.positional else tuple(binds)
        by_name = dict(converters)
        plan = tuple((name, fixed.get(name, MISSING), by_name.get(name)) for name in names)
        return cls(
            sql, names, compiled.positional, fixed, tuple(converters), tuple(keys), tuple(decoders), plan
        )

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for the caller's ``values`` (every required bind, by name).

        A caller's value for a constant bind overrides it, unconverted (as SQLAlchemy's own
        execution takes it); the caller's values of the other binds are converted.
        """
        out: list[Any] = []
        for name, fixed, convert in self.plan:
            if fixed is MISSING:
                value = values[name]
                if convert is not None and value is not None:
                    value = convert(value)
            else:
                value = values.get(name, fixed)
            out.append(value)
        if self.positional:
            return tuple(out)
        return dict(zip(self.names, out, strict=True))

    def decode(self, rows: Sequence[Sequence[Any]]) -> list[Row]:
        """Apply the result processors to ``rows``."""
        if not self.decoders:
            return [tuple(row) for row in rows]
        decoded: list[Row] = []
        for row in rows:
            values = list(row)
            for position, decode in self.decoders:
                values[position] = decode(values[position])
            decoded.append(tuple(values))
        return decoded


_COMPILED: weakref.WeakKeyDictionary[ClauseElement, dict[Dialect, Compiled]] = weakref.WeakKeyDictionary()


def compiled_for(statement: ClauseElement, dialect: Dialect) -> Compiled:
    """``statement`` compiled for ``dialect``: once per statement object and dialect.

    Statements are the ones a store builds once (``ReadStatements``, ``WriteStatements``), so
    the cache holds a handful of entries per store and drops them with the store.
    """
    by_dialect = _COMPILED.get(statement)
    if by_dialect is None:
        by_dialect = _COMPILED.setdefault(statement, {})
    found = by_dialect.get(dialect)
    if found is None:
        # Two threads may both compile it; they build equal values and the last one stays.
        found = by_dialect[dialect] = Compiled.of(statement, dialect)
    return found


def observed(engine: Engine) -> bool:
    """Whether something watches the statements ``engine`` sends (cursor-execute listeners, SQL
    logging): then they must go through SQLAlchemy's execution, which tells them."""
    # The engine's dispatcher, not the connection's: the connection joins its own listeners
    # (none: the store creates its connections) to the engine's, and that join builds a new
    # object per event name on every new connection. Class-level listeners count here too.
    # A store's writes run on an OptionEngine over its engine (see SqlStore._write_engine): it
    # is never handed out, so its listeners are its engine's, and its joined dispatcher costs
    # twice as much to ask.
    if isinstance(engine, OptionEngine):
        engine = engine._proxied
    dispatch = engine.dispatch
    if dispatch.before_cursor_execute or dispatch.after_cursor_execute:
        return True
    return engine.logger.isEnabledFor(logging.INFO)


def _observed(conn: Connection) -> bool:
    return observed(conn.engine)


def may_bypass(engine: Engine, options: Mapping[str, Any]) -> bool:
    """Whether statements under execution ``options`` may be sent other than through SQLAlchemy's
    execution (an async connection, a ``COPY``): nothing watches them, and no
    ``schema_translate_map`` needs them rendered at each execution."""
    return not observed(engine) and not options.get("schema_translate_map")


def fetch(conn: Connection, statement: ClauseElement, values: Mapping[str, Any]) -> list[Row]:
    """Run ``statement`` with ``values`` on ``conn`` and return its rows, decoded.

    Raises:
        sqlalchemy.exc.DBAPIError: a driver error, wrapped by SQLAlchemy as its own execution
            would have (see the module docstring).
    """
    if conn.get_execution_options().get("schema_translate_map"):
        # Schema names are rendered at each execution then: SQLAlchemy's own path, whose rows
        # come out already processed.
        assert isinstance(statement, Executable)
        executed = conn.execute(statement, dict(values))
        return [tuple(row) for row in executed] if executed.returns_rows else []
    compiled = compiled_for(statement, conn.dialect)
    parameters = compiled.parameters(values)
    if _observed(conn):
        result = conn.exec_driver_sql(compiled.sql, parameters)
        return compiled.decode(result.fetchall() if result.returns_rows else [])
    # driver_cursor inlined: this runs for every statement of an agent turn.
    driver = conn.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute(compiled.sql, parameters)
        rows = cursor.fetchall() if cursor.description is not None else []
    except BaseException as error:
        _driver_error(conn, error, compiled.sql, parameters, cursor)
    cursor.close()
    return compiled.decode(rows)


@contextmanager
def driver_cursor(conn: Connection, sql: str, parameters: Any) -> Iterator[Any]:
    """A cursor of ``conn``'s driver connection; driver errors raised in the block are SQLAlchemy's.

    A plain Python error passes through, as from SQLAlchemy's own execution. A driver error,
    or an interrupt (the connection's state is then unknown), goes to SQLAlchemy's handling:
    private, but the one place that wraps the error in the right class, invalidates a dropped
    connection (and its pool) and runs handle_error hooks.
    """
    driver = conn.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        yield cursor
    except BaseException as error:
        _driver_error(conn, error, sql, parameters, cursor)
    cursor.close()


def _driver_error(conn: Connection, error: BaseException, sql: str, parameters: Any, cursor: Any) -> NoReturn:
    """Raise ``error`` as SQLAlchemy's own execution would (see :func:`driver_cursor`)."""
    if isinstance(error, Exception) and not isinstance(error, conn.dialect.loaded_dbapi.Error):
        raise error
    conn._handle_dbapi_exception(error, sql, parameters, cursor, None)
    raise error  # not reached: the handler raises


def fetch_each(conn: Connection, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]) -> list[Row]:
    """Run ``statement`` once per parameter set of ``rows``; every row the executions return.

    On psycopg, one ``executemany`` on the driver cursor: psycopg pipelines the executions, so
    the batch costs one network flush and no statement text is rebuilt. A 2,000-run upsert
    took ~72 ms so, against ~100 ms as one ``jsonb_to_recordset`` statement (the server
    parsing one large JSON document). Elsewhere, SQLAlchemy's executemany (on SQLite, its
    multi-row "insertmanyvalues").

    Raises:
        sqlalchemy.exc.DBAPIError: a driver error, wrapped as :func:`fetch` wraps it.
    """
    if not rows:
        return []
    if conn.dialect.driver != "psycopg" or not may_bypass(conn.engine, conn.get_execution_options()):
        assert isinstance(statement, Executable)
        return [tuple(row) for row in conn.execute(statement, [dict(row) for row in rows])]
    compiled = compiled_for(statement, conn.dialect)
    parameters = [compiled.parameters(row) for row in rows]
    returned: list[Any] = []
    with driver_cursor(conn, compiled.sql, parameters) as cursor:
        cursor.executemany(compiled.sql, parameters, returning=True)
        while True:
            returned.extend(cursor.fetchall())
            if not cursor.nextset():
                break
    return compiled.decode(returned)


def execute_many(conn: Connection, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run ``statement``, which returns no rows, once per parameter set of ``rows``.

    One ``executemany`` on the driver cursor (the driver prepares the statement once), unless
    something watches the statements (see :func:`may_bypass`): then SQLAlchemy's executemany.

    Raises:
        sqlalchemy.exc.DBAPIError: a driver error, wrapped as :func:`fetch` wraps it.
    """
    if not rows:
        return
    if not may_bypass(conn.engine, conn.get_execution_options()):
        assert isinstance(statement, Executable)
        conn.execute(statement, [dict(row) for row in rows])
        return
    compiled = compiled_for(statement, conn.dialect)
    parameters = [compiled.parameters(row) for row in rows]
    with driver_cursor(conn, compiled.sql, parameters) as cursor:
        cursor.executemany(compiled.sql, parameters)


def fetch_one(conn: Connection, statement: ClauseElement, values: Mapping[str, Any]) -> Row | None:
    """The first row :func:`fetch` returns, or ``None``."""
    rows = fetch(conn, statement, values)
    return rows[0] if rows else None


def fetch_mappings(
    conn: Connection, statement: ClauseElement, values: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The rows :func:`fetch` returns, each as a dict by column name."""
    keys = compiled_for(statement, conn.dialect).keys
    return [dict(zip(keys, row, strict=True)) for row in fetch(conn, statement, values)]


def fetch_mapping(
    conn: Connection, statement: ClauseElement, values: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The first row :func:`fetch` returns as a dict by column name, or ``None``."""
    rows = fetch_mappings(conn, statement, values)
    return rows[0] if rows else None
