"""The one place that turns errors into Label Studio-shaped HTTP responses.

Label Studio answers errors as `{id, status_code, version, detail, exc_info, validation_errors?}`; clients
and the SDK read `detail` and `validation_errors`.

Errors raised on purpose (DomainError, FastAPI's validation, HTTPException) are answered by the handlers
`install` registers. Anything else is answered by `unexpected_response`, which the ErrorBoundary
middleware calls: a 500 whose `id` is in the log with the traceback, or a 503 with Retry-After when a
store is throttling or unreachable. Nothing is re-raised, so the connection stays open for the next
request.
"""

from __future__ import annotations

import logging
import re
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from functions.domain.errors import (
    Conflict,
    DomainError,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    TooManyRequests,
    ValidationFailed,
)
from functions.settings import VERSION
from functions.store.errors import unavailable

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1

_STATUS = {
    ValidationFailed: 400,
    NotAuthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    TooManyRequests: 429,
}


def error_body(
    status: int, detail: str, validation_errors: dict | None = None, *, request_id: str | None = None
) -> dict:
    body = {
        "id": request_id or str(uuid.uuid4()),
        "status_code": status,
        "version": VERSION,
        "detail": detail,
        "exc_info": None,
    }
    if validation_errors is not None:
        body["validation_errors"] = validation_errors
    return body


def error_response(
    status: int, detail: str, validation_errors: dict | None = None, headers: dict | None = None
) -> JSONResponse:
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Token realm="api"'}
    return JSONResponse(error_body(status, detail, validation_errors), status_code=status, headers=headers)


def unexpected_response(exc: Exception, method: str, path: str) -> JSONResponse:
    """The answer to an exception nothing handled: 503 if a store is busy or unreachable (the client may
    retry after `Retry-After` seconds), else 500. Both are logged under the body's `id`."""
    request_id = str(uuid.uuid4())
    if unavailable(exc):
        logger.warning(
            "unavailable [%s] %s %s: %s",
            request_id,
            method,
            path,
            exc,
            exc_info=exc,
            extra={"request_id": request_id},
        )
        body = error_body(503, "The service is busy; try again shortly.", request_id=request_id)
        return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    logger.error(
        "unhandled error [%s] %s %s", request_id, method, path, exc_info=exc, extra={"request_id": request_id}
    )
    return JSONResponse(error_body(500, "Internal server error", request_id=request_id), status_code=500)


_LOCATIONS = ("body", "query", "path", "header", "cookie")
# Pydantic names the alternative of a union a value failed to be ("list[dict[str,any]]", "str",
# "function-after[...]") in the error's location; a client wants the field's name only.
_UNION_MEMBER = re.compile(r"[\w-]+\[.*\]|str|int|float|bool|bytes|none|[a-z]+(-[a-z]+)+")


def _field_name(loc: tuple) -> str:
    """`result.0.from_name` for an error at `("body", "result", 0, "from_name")`; `non_field_errors` for
    the body as a whole."""
    if loc and loc[0] in _LOCATIONS:
        loc = loc[1:]
    parts = [str(p) for i, p in enumerate(loc) if i == 0 or not _UNION_MEMBER.fullmatch(str(p))]
    return ".".join(parts) or "non_field_errors"


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError):
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
        errors = exc.errors if isinstance(exc, ValidationFailed) else None
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        return error_response(status, exc.detail, errors, headers)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError):
        errors: dict[str, list[str]] = {}
        for error in exc.errors():
            if error.get("type") == "json_invalid":
                errors.setdefault("non_field_errors", []).append(
                    f"JSON parse error: {error.get('ctx', {}).get('error', 'invalid JSON')}"
                )
                continue
            errors.setdefault(_field_name(tuple(error.get("loc", ()))), []).append(
                error.get("msg", "invalid")
            )
        return error_response(400, "Validation error", errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException):
        return error_response(exc.status_code, str(exc.detail))
