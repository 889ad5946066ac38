"""The web console: server-rendered pages at ``/ui`` to browse, search and manage sessions.

It is one router (:mod:`sessiondb.console.router`, with the forms' actions in
:mod:`sessiondb.console.actions`, search in :mod:`sessiondb.console.search` and the live
updates' change feed in :mod:`sessiondb.console.live`), Jinja2 templates with autoescaping on,
and two static files (a stylesheet and a small script for live updates), all shipped in the
package: nothing is built at install time and nothing is fetched from the internet. Every
page reads through the same store calls and the same :func:`~sessiondb.api.deps.grant` as the
JSON API; the console has no data path of its own. How a browser authenticates is in
:mod:`sessiondb.console.auth`.
"""

from sessiondb.console.router import install_console

__all__ = ["install_console"]
