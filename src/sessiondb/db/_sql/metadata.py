"""The metadata filter of the session listing, in each dialect's JSON functions.

The filter's leaves (see :mod:`sessiondb.db.metadata_filter`) are bound as one JSON text
parameter, so a listing with a metadata filter has one statement shape whatever the keys:

- PostgreSQL: ``metadata @> :filter``, which the GIN index of migration 0008 serves, and for
  array values (which ``@>`` only checks for containment) an exact comparison of each;
- SQLite: every leaf checked with ``json_type``/``json_extract`` at its path, inside one
  ``NOT EXISTS`` over ``json_each`` of the leaves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from sessiondb.db._tracking import encode_json
from sessiondb.db.metadata_filter import Leaf, postgres_arrays, sqlite_leaves

FILTER_PARAM = "metadata_filter"
LEAVES_PARAM = "metadata_leaves"
ARRAYS_PARAM = "metadata_arrays"


class MetadataContains(ColumnElement[bool]):
    """``column`` contains the filter bound as :data:`FILTER_PARAM` and friends."""

    inherit_cache = True
    type = Boolean()

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column

    _traverse_internals: Any = []


def metadata_params(metadata: dict[str, Any], leaves: list[Leaf]) -> dict[str, Any]:
    """The bound values of :class:`MetadataContains` for a filter (every dialect's)."""
    return {
        FILTER_PARAM: encode_json(metadata),
        LEAVES_PARAM: sqlite_leaves(leaves),
        ARRAYS_PARAM: postgres_arrays(leaves),
    }


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
    column = compiler.process(element.column, **kw)
    leaves = _bind(compiler, LEAVES_PARAM, **kw)
    path = "wanted.value ->> '$[0]'"
    kind = "wanted.value ->> '$[1]'"
    found_type = f"json_type({column}, {path})"
    found = f"json_extract({column}, {path})"
    # A missing key gives NULL; COALESCE turns that into "does not match".
    matches = (
        f"CASE {kind} "
        f"WHEN 'text' THEN {found_type} = 'text' AND {found} = wanted.value ->> '$[2]' "
        f"WHEN 'number' THEN {found_type} IN ('integer', 'real') AND {found} = wanted.value ->> '$[2]' "
        f"WHEN 'array' THEN {found_type} = 'array' AND {found} = wanted.value -> '$[2]' "
        f"ELSE {found_type} = {kind} END"
    )
    return (
        f"({column} IS NOT NULL AND NOT EXISTS ("
        f"SELECT 1 FROM json_each({leaves}) AS wanted WHERE NOT COALESCE({matches}, 0)))"
    )
