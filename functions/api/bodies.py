"""Reading request JSON and query flags the way Label Studio clients send them."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from functions.domain import json_limits
from functions.domain.errors import ValidationFailed

# Where middleware.JsonBodyCheck leaves the body it parsed and checked, in the request's scope.
PARSED_JSON = "labelstack.json_body"
ABSENT = object()


def _not_a_number(literal: str) -> Any:
    # `json` would accept NaN and Infinity; they are not JSON, and Label Studio's parser refuses them.
    raise json.JSONDecodeError(f"{literal} is not a valid JSON number", literal, 0)


def parse_json(raw: bytes) -> Any:
    """A request's JSON, as Label Studio parses it; raises json.JSONDecodeError (or UnicodeDecodeError)."""
    return json.loads(raw, parse_constant=_not_a_number)


async def json_body(request: Request, *, expect: type | tuple[type, ...] = dict):
    """The request's JSON body, checked by json_limits (as JsonBodyCheck parsed it, or parsed here for a
    body sent with another Content-Type), and of the type `expect`."""
    value = request.scope.get(PARSED_JSON, ABSENT)
    if value is ABSENT:
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
