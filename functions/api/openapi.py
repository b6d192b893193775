"""The served OpenAPI document, as FastAPI writes it from the routes, less what this API never answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from functions.api.schemas.common import INT64_MAX, INT64_MIN

_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
# FastAPI's OpenAPI model holds bounds as floats, which would write the int64 limits one past themselves.
_EXACT = {float(INT64_MAX): INT64_MAX, float(INT64_MIN): INT64_MIN}
# FastAPI documents a 422 with its own error shape on every operation with parameters; invalid requests
# are answered 400 with Label Studio's envelope instead (functions/api/errors.py), documented per route.
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_integer_bounds(
                _without_422(
                    get_openapi(
                        title=app.title,
                        version=app.version,
                        description=app.description,
                        routes=app.routes,
                        tags=app.openapi_tags,
                    )
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _without_422(document: dict[str, Any]) -> dict[str, Any]:
    for methods in document.get("paths", {}).values():
        for operation in methods.values():
            operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
    return document


def _with_integer_bounds(node: Any) -> Any:
    """Integers' bounds as integers, exactly (FastAPI writes `1.0` and `9.223372036854776e+18`)."""
    if isinstance(node, dict):
        integer = node.get("type") == "integer"
        for key, value in node.items():
            if integer and key in _BOUNDS and isinstance(value, float) and value.is_integer():
                node[key] = _EXACT.get(value, int(value))
            else:
                _with_integer_bounds(value)
    elif isinstance(node, list):
        for item in node:
            _with_integer_bounds(item)
    return node
