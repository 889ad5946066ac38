"""The AgentOS-compatible sessions HTTP API.

Build it with :func:`create_app` over one or more stores::

    from sessiondb.api import create_app
    from sessiondb.db.memory import InMemoryDb

    app = create_app(dbs=[InMemoryDb()])
"""

from sessiondb.api.app import create_app
from sessiondb.api.auth import AuthConfig, JwtConfig, Principal

__all__ = ["AuthConfig", "JwtConfig", "Principal", "create_app"]
