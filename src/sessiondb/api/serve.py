"""Launching the server: settings from flags, environment and a config file; stores from URLs.

Precedence, highest first: command-line flags and environment variables (``SESSIONDB_*``),
then the TOML config file, then the defaults (``127.0.0.1:7777``, SQLite ``./sessiondb.db``).

A config file uses the flag names with underscores::

    host = "0.0.0.0"
    port = 7777
    db = ["main=sqlite:///sessions.db", "pg=postgresql+psycopg://user@db:5432/app"]
    jwt_public_key_file = "/etc/sessiondb/jwt.pem"
    jwt_algorithms = ["RS256"]
    jwt_audience = "sessiondb"
    workers = 4
    cors_origins = ["https://ui.example.com"]
    db_lock_timeout = 5.0        # seconds; see docs/reliability.md for every bound
    soft_delete = "7d"         # deletes go to the trash for 7 days (restorable), then are purged
    retention = "/etc/sessiondb/retention.toml"  # policies applied on a schedule (docs/retention.md)
    changes_window = "7d"      # how long the change feed keeps its changes
    read_cache = false         # answer every read from the database (docs/benchmarks.md: the read cache)
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from sessiondb.api.auth import DEFAULT_ADMIN_SCOPES, AuthConfig, JwtConfig
from sessiondb.api.cors import DEFAULT_CORS_ORIGINS
from sessiondb.api.field_limits import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_ID_CHARS,
    DEFAULT_MAX_NAME_CHARS,
    FieldLimits,
)
from sessiondb.api.limits import DEFAULT_MAX_BODY_BYTES
from sessiondb.api.routers.system import HEALTH_TIMEOUT_S
from sessiondb.api.slow_clients import DEFAULT_HEADER_TIMEOUT_S
from sessiondb.db._sql.tables import TableNames
from sessiondb.db.base import SessionStore
from sessiondb.db.retention import parse_duration
from sessiondb.db.timeouts import DEFAULT_CONNECT_S, DEFAULT_POOL_S, DEFAULT_STATEMENT_S, Timeouts

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7777
DEFAULT_DB = "sessiondb.db"

_TIMEOUT_SETTINGS = {
    "connect_s": "db_connect_timeout",
    "pool_s": "db_pool_timeout",
    "lock_s": "db_lock_timeout",
    "statement_s": "db_statement_timeout",
}
"""Each :class:`~sessiondb.db.timeouts.Timeouts` field and the setting (flag, env var) giving it."""

_DB_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
_POSTGRES_URL = re.compile(r"^postgres(ql)?(\+\w+)?://")


@dataclass(frozen=True, kw_only=True)
class ServeSettings:
    """Everything ``sessiondb serve`` needs; see the module docstring for where values come from."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    db: Sequence[str] = (DEFAULT_DB,)
    read_replica: Sequence[str] = ()
    security_key: str | None = None
    jwt_secret: str | None = None
    jwt_public_key_file: str | None = None
    jwt_algorithms: Sequence[str] | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    admin_scopes: Sequence[str] = DEFAULT_ADMIN_SCOPES
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_name_chars: int = DEFAULT_MAX_NAME_CHARS
    max_id_chars: int = DEFAULT_MAX_ID_CHARS
    max_json_depth: int = DEFAULT_MAX_DEPTH
    insecure: bool = False
    auto_migrate: bool = True
    read_cache: bool = True
    log_level: str = "info"
    workers: int = 1
    cors_origins: Sequence[str] = DEFAULT_CORS_ORIGINS
    db_connect_timeout: float = DEFAULT_CONNECT_S
    db_pool_timeout: float = DEFAULT_POOL_S
    db_lock_timeout: float | None = None
    db_statement_timeout: float = DEFAULT_STATEMENT_S
    health_timeout: float = HEALTH_TIMEOUT_S
    header_timeout: float = DEFAULT_HEADER_TIMEOUT_S
    soft_delete: str | None = None
    retention: str | None = None
    changes_window: str = "7d"

    def __post_init__(self) -> None:
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"workers (--workers) must be a whole number, at least 1, not {self.workers!r}")
        self.timeouts()  # refuses a bound that is not a positive number of seconds
        for name in ("health_timeout", "header_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        self.store_options()  # refuse a malformed duration before anything is opened

    def timeouts(self) -> Timeouts:
        """The bounds on the stores' waits for their databases (see ``docs/reliability.md``).

        Raises:
            ValueError: a bound is not a positive number of seconds (named as the setting).
        """
        values = {field: getattr(self, setting) for field, setting in _TIMEOUT_SETTINGS.items()}
        for field, setting in _TIMEOUT_SETTINGS.items():
            try:
                Timeouts(**{field: values[field]})
            except ValueError:
                raise ValueError(
                    f"{setting} must be a positive number of seconds, not {values[field]!r}"
                ) from None
        return Timeouts(**values)

    def store_options(self) -> dict[str, Any]:
        """The lifecycle options of every store: ``soft_delete`` and ``changes_window``.

        Raises:
            ValueError: a duration is malformed, naming its flag.
        """
        soft = None if self.soft_delete is None else parse_duration(self.soft_delete, name="--soft-delete")
        window = parse_duration(self.changes_window, name="--changes-window")
        return {"soft_delete": soft, "changes_window": window}

    def field_limits(self) -> FieldLimits:
        """The JSON field caps the settings ask for.

        Raises:
            ValueError: a cap is out of range.
        """
        return FieldLimits(
            max_name_chars=self.max_name_chars, max_id_chars=self.max_id_chars, max_depth=self.max_json_depth
        )

    def auth(self) -> AuthConfig:
        """The auth the settings ask for (off when no key and no JWT key are set).

        Raises:
            ValueError: both a JWT secret and a public key were given.
        """
        if self.jwt_secret and self.jwt_public_key_file:
            raise ValueError("give either a JWT secret (HS256) or a JWT public key (RS256), not both")
        jwt_config = None
        if self.jwt_secret or self.jwt_public_key_file:
            key = self.jwt_secret or Path(str(self.jwt_public_key_file)).read_text()
            default_algorithms = ("HS256",) if self.jwt_secret else ("RS256",)
            jwt_config = JwtConfig(
                key=key,
                algorithms=tuple(self.jwt_algorithms or default_algorithms),
                audience=self.jwt_audience,
                issuer=self.jwt_issuer,
                admin_scopes=tuple(self.admin_scopes),
            )
        return AuthConfig(security_key=self.security_key or None, jwt=jwt_config)


def load_config_file(path: Path) -> dict[str, Any]:
    """The settings in a TOML config file.

    Raises:
        ValueError: the file is not valid TOML or names an unknown setting.
    """
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from exc
    known = {f.name for f in fields(ServeSettings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: unknown setting(s) {unknown}; known: {sorted(known)}")
    for key in ("db", "read_replica", "cors_origins"):
        if isinstance(data.get(key), str):
            data[key] = [data[key]]
    return data


def resolve_settings(given: Mapping[str, Any], config_file: Path | None) -> ServeSettings:
    """Merge flag values (``None`` means not given) over the config file over the defaults."""
    settings = ServeSettings()
    if config_file is not None:
        settings = replace(settings, **load_config_file(config_file))
    explicit = {key: value for key, value in given.items() if value not in (None, [], ())}
    return replace(settings, **explicit)


def split_db_arg(value: str) -> tuple[str | None, str]:
    """``"id=URL"`` → ``(id, URL)``; a bare URL or path → ``(None, value)``.

    The part before ``=`` counts as an id only when it looks like one, so URLs with query
    strings (``...?sslmode=require``) are left whole.
    """
    head, sep, tail = value.partition("=")
    if sep and _DB_ID.match(head) and tail:
        return head, tail
    return None, value


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL of a ``sqlite://`` or ``postgresql://`` database.

    Raises:
        ValueError: the URL cannot be parsed or its scheme is not one sessiondb serves. The
            message never repeats the URL's password.
    """
    parsed = _parse(url, "a file path, sqlite:///..., postgresql://... or memory")
    if parsed.get_backend_name() not in ("sqlite", "postgresql", "postgres"):
        # The password is masked: this message is printed, and may be logged.
        shown = parsed.render_as_string(hide_password=True)
        raise ValueError(
            f"unsupported database URL {shown!r}: use a file path, sqlite:///..., postgresql://... or memory"
        )
    return parsed


def store_from_url(
    url: str,
    *,
    db_id: str | None = None,
    auto_migrate: bool = True,
    read_replicas: Sequence[str] = (),
    names: TableNames | None = None,
    timeouts: Timeouts | None = None,
    **options: Any,
) -> SessionStore:
    """Open the store a URL names.

    * ``memory`` (or ``memory://``): an :class:`~sessiondb.db.memory.InMemoryDb`;
    * ``sqlite:///path`` or a plain file path: a :class:`~sessiondb.db.sqlite.SqliteDb`;
    * ``postgresql[+psycopg]://...`` (or ``postgres://``): a
      :class:`~sessiondb.db.postgres.PostgresDb`; a ``schema`` query parameter picks the
      database schema (default ``ai``); ``read_replicas`` are URLs of its streaming replicas.

    Args:
        url: the URL or path.
        db_id: the id the API serves the store under.
        auto_migrate: whether the store creates or upgrades its tables on first use.
        read_replicas: URLs of a PostgreSQL database's streaming replicas.
        names: the tables (and schema) to use; ``None``: the defaults (and the URL's schema).
        timeouts: bounds on the SQL stores' waits (default: :class:`~sessiondb.db.timeouts.Timeouts`).
        **options: go to the store's constructor (``soft_delete``, ``changes_window``).

    Raises:
        ValueError: the URL cannot be parsed or its scheme is not one of these. The message
            never repeats the URL's password.
    """
    from sessiondb.db import InMemoryDb, PostgresDb, SqliteDb

    if read_replicas and not _POSTGRES_URL.match(url):
        raise ValueError("read replicas (--read-replica) need a PostgreSQL database (--db postgresql://...)")
    if url in ("memory", "memory://"):
        return InMemoryDb(id=db_id, **options)
    tables: dict[str, Any] = {}
    if names is not None:
        tables = {"session_table": names.sessions, "runs_table": names.runs}
    if "://" not in url:
        return SqliteDb(
            db_file=url, id=db_id, auto_migrate=auto_migrate, timeouts=timeouts, **tables, **options
        )
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return SqliteDb(
            db_url=url, id=db_id, auto_migrate=auto_migrate, timeouts=timeouts, **tables, **options
        )
    schema = names.schema if names is not None else parsed.query.get("schema")
    return PostgresDb(
        db_url=_psycopg_url(parsed),
        db_schema=schema if isinstance(schema, str) else None,
        id=db_id,
        auto_migrate=auto_migrate,
        read_replica_urls=[_psycopg_url(_parse(replica, "postgresql://...")) for replica in read_replicas],
        timeouts=timeouts,
        **tables,
        **options,
    )


def _parse(url: str, expected: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        # Not chained: the parser's own messages may quote the URL, password included.
        raise ValueError(f"not a database URL: expected {expected}") from None


def _psycopg_url(parsed: URL) -> str:
    """A PostgreSQL URL for psycopg 3, without sessiondb's own ``schema`` parameter."""
    parsed = parsed.difference_update_query(["schema"]).set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def replicas_by_db(settings: ServeSettings) -> dict[str | None, list[str]]:
    """The ``--read-replica`` URLs of each ``--db`` (by its id; ``None`` for an unnamed one).

    Raises:
        ValueError: a replica names no served database, or is ambiguous among several.
    """
    ids = [split_db_arg(value)[0] for value in settings.db]
    replicas: dict[str | None, list[str]] = {}
    for value in settings.read_replica:
        db_id, url = split_db_arg(value)
        if db_id is None and len(ids) > 1:
            raise ValueError("with several --db, name the database of each --read-replica: db_id=URL")
        if db_id is not None and db_id not in ids:
            raise ValueError(f"--read-replica names db_id {db_id!r}, but no --db has that id")
        replicas.setdefault(db_id if db_id is not None else ids[0], []).append(url)
    return replicas


def open_stores(settings: ServeSettings) -> list[SessionStore]:
    """The stores ``settings.db`` names, in order, with their read replicas.

    Raises:
        ValueError: a URL is not supported, or a read replica names no served database or a
            database that is not PostgreSQL.
    """
    replicas = replicas_by_db(settings)
    stores = []
    for value in settings.db:
        db_id, url = split_db_arg(value)
        stores.append(
            store_from_url(
                url,
                db_id=db_id,
                auto_migrate=settings.auto_migrate,
                read_replicas=replicas.get(db_id, []),
                timeouts=settings.timeouts(),
                **settings.store_options(),
            )
        )
    return stores
