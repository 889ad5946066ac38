"""The metadata filter of the session listing, in each dialect's JSON functions.

The filter's leaves (see :mod:`sessiondb.db.metadata_filter`) are bound parameters:

- PostgreSQL: ``metadata @> :filter``, which the GIN index of migration 0004 serves, and for
  array values (which ``@>`` only checks for containment) an exact comparison of each;
- SQLite: one test per leaf at its path (``->``, ``json_type``), so the statement's shape is
  the sequence of the leaves' kinds, and each leaf's path and value are bound.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from sessiondb.db._tracking import encode_json
from sessiondb.db.metadata_filter import Leaf, postgres_arrays, sqlite_path

FILTER_PARAM = "metadata_filter"
ARRAYS_PARAM = "metadata_arrays"


def path_param(number: int) -> str:
    """The bound SQLite JSON path of leaf ``number``."""
    return f"metadata_path_{number}"


def value_param(number: int) -> str:
    """The bound expected value of leaf ``number`` (SQLite)."""
    return f"metadata_value_{number}"


class MetadataContains(ColumnElement[bool]):
    """``column`` contains the filter whose leaves have ``kinds`` (values bound by number)."""

    inherit_cache = True
    type = Boolean()
    # The kinds decide the SQLite text, so they are part of SQLAlchemy's cache key.
    _traverse_internals: Any = [
        ("column", InternalTraversal.dp_clauseelement),
        ("kinds", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, column: ColumnElement[Any], kinds: tuple[str, ...]) -> None:
        self.column = column
        self.kinds = kinds


def metadata_params(metadata: dict[str, Any], leaves: list[Leaf]) -> dict[str, Any]:
    """The bound values of :class:`MetadataContains` for a filter (every dialect's)."""
    params: dict[str, Any] = {FILTER_PARAM: encode_json(metadata), ARRAYS_PARAM: postgres_arrays(leaves)}
    for number, leaf in enumerate(leaves):
        params[path_param(number)] = sqlite_path(leaf.path)
        params[value_param(number)] = encode_json(leaf.value) if leaf.kind == "array" else leaf.value
    return params


def _bind(compiler: SQLCompiler, name: str, **kw: Any) -> str:
    return compiler.process(bindparam(name, type_=String()), **kw)


@compiles(MetadataContains, "postgresql")
def _postgres(element: MetadataContains, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    document = _bind(compiler, FILTER_PARAM, **kw)
    arrays = _bind(compiler, ARRAYS_PARAM, **kw)
    return (
        f"({column} @> CAST({document} AS JSONB) AND NOT EXISTS ("
        f"SELECT 1 FROM jsonb_array_elements(CAST({arrays} AS JSONB)) AS wanted(leaf) "
        f"WHERE {column} #> ARRAY(SELECT jsonb_array_elements_text(wanted.leaf -> 0)) "
        "IS DISTINCT FROM wanted.leaf -> 1))"
    )


@compiles(MetadataContains, "sqlite")
def _sqlite(element: MetadataContains, compiler: SQLCompiler, **kw: Any) -> str:
    # One test per leaf, written inline: a json_each over the leaves costs a virtual table
    # per row, ten times the scan itself (100,000 rows: 500 ms against 40).
    column = compiler.process(element.column, **kw)
    tests = [f"{column} IS NOT NULL"]
    for number, kind in enumerate(element.kinds):
        path = _bind(compiler, path_param(number), **kw)
        value = value_param(number)
        if kind == "number":
            bound = compiler.process(bindparam(value), **kw)
            tests.append(
                f"json_type({column}, {path}) IN ('integer', 'real') AND ({column} ->> {path}) = {bound}"
            )
        elif kind == "text":
            # ``->`` renders the stored value as SQLite writes JSON; json_quote renders ours alike.
            tests.append(f"({column} -> {path}) = json_quote({_bind(compiler, value, **kw)})")
        elif kind == "array":
            tests.append(f"({column} -> {path}) = json({_bind(compiler, value, **kw)})")
        else:  # true, false, null, object: the type alone
            tests.append(f"json_type({column}, {path}) = '{kind}'")
    return "(" + " AND ".join(tests) + ")"
