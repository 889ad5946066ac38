"""Query strings a route validates itself, with FastAPI's 422 items and OpenAPI parameters.

FastAPI re-inspects the annotation of every query parameter on every request (several µs
each, model fields included). A route with many of them can instead validate
``request.query_params`` against one pydantic model; clients still see what FastAPI would
show them: :func:`parse_query` fails with FastAPI's validation-error items, and
:func:`documented_parameters` gives the OpenAPI parameter objects for the route's
``openapi_extra``, written by FastAPI itself from a signature that declares them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

_Model = TypeVar("_Model", bound=BaseModel)


def parse_query(model: type[_Model], request: Request) -> _Model:
    """Validate the request's query parameters into ``model`` (by alias; unknown keys ignored).

    A repeated key counts with its last value, as FastAPI reads a parameter that is not a list.

    Raises:
        RequestValidationError: a value is invalid; the items are FastAPI's (``loc`` is
            ``["query", <alias>]``), so the client gets the same 422 body.
    """
    try:
        return model.model_validate(request.query_params)
    except ValidationError as exc:
        errors = [{**error, "loc": ("query", *error["loc"])} for error in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def documented_parameters(declaration: Callable[..., object]) -> list[dict[str, Any]]:
    """The OpenAPI parameter objects FastAPI writes for an endpoint with ``declaration``'s signature.

    Meant for ``openapi_extra={"parameters": ...}`` of a route that parses those parameters
    itself: the document then stays what it was when FastAPI parsed them. Only inline schemas
    carry over; a parameter whose schema is a ``$ref`` to a component would dangle.
    """
    route = APIRoute("/", declaration, methods=["GET"])
    operation = get_openapi(title="", version="", routes=[route])["paths"]["/"]["get"]
    parameters: list[dict[str, Any]] = operation.get("parameters", [])
    return parameters
