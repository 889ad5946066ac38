"""Where a benchmark runs: a SQLite directory or a PostgreSQL schema, and its datasets.

A dataset is one sessiondb table pair with a store and a raw connection on it. On SQLite each
dataset is a file of its own; on PostgreSQL every dataset of a run shares one dedicated
schema, dropped (with everything in it) when the run ends.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.driver import Driver, psycopg_url
from bench.raw import RawStore
from sessiondb.db._sql import SqlStore
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.sqlite import SqliteDb

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SQLITE_TABLE = "bench_sessions"


@dataclass
class Dataset:
    """A migrated sessiondb table pair, with the store and the raw baseline on it.

    Attributes:
        key: the dataset's name within its environment.
        store: sessiondb on the tables.
        raw: the raw driver on the same tables.
        location: what a server process needs to open it (file path, or schema and table).
    """

    key: str
    store: SqlStore
    raw: RawStore
    location: dict[str, str]

    def close(self) -> None:
        """Close the store and the raw connection."""
        self.store.close()
        self.raw.driver.close()


@dataclass
class Env:
    """One backend's place to put datasets.

    Attributes:
        backend: ``"sqlite"`` or ``"postgres"``.
        root: the directory of the SQLite files (also used for scratch files).
        pg_url: the PostgreSQL URL (SQLAlchemy form).
        schema: the PostgreSQL schema of this run.
    """

    backend: str
    root: Path
    pg_url: str = DEFAULT_PG_URL
    schema: str | None = None
    datasets: dict[str, Dataset] = field(default_factory=dict)

    @classmethod
    def create(cls, backend: str, *, pg_url: str = DEFAULT_PG_URL) -> Env:
        """A fresh environment: a temporary directory, and on PostgreSQL a new schema name."""
        root = Path(tempfile.mkdtemp(prefix=f"sessiondb-bench-{backend}-"))
        schema = f"bench_{uuid.uuid4().hex[:10]}" if backend == "postgres" else None
        return cls(backend, root, pg_url, schema)

    def dataset(self, key: str) -> Dataset:
        """The dataset ``key``, created and migrated on first use."""
        if key in self.datasets:
            return self.datasets[key]
        if self.backend == "sqlite":
            path = self.root / f"{key}.db"
            store: SqlStore = SqliteDb(db_file=path, session_table=SQLITE_TABLE)
            store.migrate()
            raw = RawStore(Driver.sqlite(str(path)), SQLITE_TABLE, f"{SQLITE_TABLE}_runs")
            location = {"db_file": str(path), "table": SQLITE_TABLE}
        else:
            assert self.schema is not None
            table = f"b_{key}"
            store = PostgresDb(db_url=self.pg_url, db_schema=self.schema, session_table=table)
            store.migrate()
            raw = RawStore(Driver.postgres(self.pg_url, self.schema), table, f"{table}_runs")
            location = {"pg_url": self.pg_url, "schema": self.schema, "table": table}
        created = Dataset(key, store, raw, location)
        self.datasets[key] = created
        return created

    def close(self) -> None:
        """Close every dataset, drop the PostgreSQL schema and delete the directory."""
        for dataset in self.datasets.values():
            dataset.close()
        self.datasets.clear()
        if self.schema is not None:
            with psycopg.connect(psycopg_url(self.pg_url), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        shutil.rmtree(self.root, ignore_errors=True)
