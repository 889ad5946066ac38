"""The AgentOS-compatible sessions HTTP API.

Build it with :func:`create_app` over one or more stores::

    from sessiondb.api import create_app
    from sessiondb.db.memory import InMemoryDb

    app = create_app(dbs=[InMemoryDb()])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sessiondb.api.app import create_app
    from sessiondb.api.auth import AuthConfig, JwtConfig, Principal

# Imported on first use (PEP 562): the CLI's read commands use sessiondb.api.databases and
# need neither FastAPI nor the runtimes, which take seconds to import on a busy machine.
_EXPORTS = {
    "AuthConfig": "sessiondb.api.auth",
    "JwtConfig": "sessiondb.api.auth",
    "Principal": "sessiondb.api.auth",
    "create_app": "sessiondb.api.app",
}

__all__ = ["AuthConfig", "JwtConfig", "Principal", "create_app"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sessiondb.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
