"""Finding the app ``sessiondb serve --app module:attr`` serves.

``attr`` is either a FastAPI app built by :func:`~sessiondb.api.create_app`, or a callable
taking no arguments that returns one (an app factory, called once at startup). ``module`` is
imported with the current directory first on ``sys.path``, as uvicorn does, so
``--app examples.serve_app:app`` works from the project root.
"""

from __future__ import annotations

import importlib
import os
import sys

from fastapi import FastAPI


def load_app(reference: str) -> FastAPI:
    """The app ``reference`` (``"module:attr"``, ``attr`` may be dotted) names.

    Raises:
        ValueError: the reference is malformed, the module or attribute does not exist, or the
            attribute is neither a FastAPI app nor a callable returning one.
    """
    module_name, sep, attr_path = reference.partition(":")
    if not sep or not module_name or not attr_path:
        raise ValueError(f"--app must look like 'module:attr', not {reference!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: object = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ValueError(f"cannot import {module_name!r} (from --app {reference!r}): {exc}") from exc
    for part in attr_path.split("."):
        try:
            target = getattr(target, part)
        except AttributeError as exc:
            raise ValueError(f"{module_name!r} has no attribute {attr_path!r}") from exc
    if not isinstance(target, FastAPI) and callable(target):
        target = target()
    if not isinstance(target, FastAPI):
        raise ValueError(
            f"--app {reference!r} is a {type(target).__name__}: it must be a FastAPI app made by "
            "sessiondb.api.create_app, or a callable returning one"
        )
    if not hasattr(target.state, "registry"):
        raise ValueError(f"--app {reference!r} is a FastAPI app not made by sessiondb.api.create_app")
    return target


__all__ = ["load_app"]
