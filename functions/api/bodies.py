"""Reading request bodies and query flags the way Label Studio clients send them."""

from __future__ import annotations

from typing import overload

from fastapi import Request

from functions.domain import json_limits
from functions.domain.errors import ValidationFailed

# Where middleware.JsonBodyCheck leaves the body it parsed and checked, in the request's scope.
PARSED_JSON = "labelstack.json_body"
_ABSENT = object()


async def json_body(request: Request, *, expect: type | tuple[type, ...] = dict):
    """The request's JSON body, checked by json_limits (as JsonBodyCheck parsed it, or parsed here for a
    body sent with another Content-Type), and of the type `expect`."""
    value = request.scope.get(PARSED_JSON, _ABSENT)
    if value is _ABSENT:
        raw = await request.body()
        if not raw.strip():
            raise ValidationFailed.field("non_field_errors", "Request body is empty; expected JSON.")
        value = json_limits.parse(raw)
    if not isinstance(value, expect):
        names = " or ".join(t.__name__ for t in (expect if isinstance(expect, tuple) else (expect,)))
        raise ValidationFailed.field(
            "non_field_errors", f"Expected a JSON {names.replace('dict', 'object')}."
        )
    return value


def flag(value: str | None, default: bool = False) -> bool:
    """Query flags arrive as 1/0, true/false, True/False (the legacy SDK sends Python's repr)."""
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def required_int_param(value: str | None, name: str) -> int:
    found = int_param(value, name)
    if found is None:
        raise ValidationFailed.field(name, "This query parameter is required.")
    return found


@overload
def int_param(value: str | None, name: str, default: int) -> int: ...
@overload
def int_param(value: str | None, name: str, default: None = None) -> int | None: ...
def int_param(value: str | None, name: str, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed.field(name, "A valid integer is required.") from None
