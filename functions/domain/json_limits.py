"""What a JSON value must be for labelstack to store it and to answer it back.

Python's `json` accepts more than the store and the responses can take: NaN and Infinity (not JSON;
DynamoDB has no such number and the response encoder refuses them), numbers beyond DynamoDB's range
(magnitude 1e-130 to under 1e126), lone UTF-16 surrogates such as "\\ud800" (no UTF-8 encoding, so the
write fails), and nesting deep enough to exhaust the interpreter's recursion. `parse` and
`check_storable` turn each of these into a `ValidationFailed` naming the field, before anything is stored.

Pure, and one walk over the value: `parse` is used on every JSON request body (functions/api) and on
ML backends' answers; `check_storable` on values parsed elsewhere (a request model, a query parameter).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from functions.domain.errors import ValidationFailed

MAX_DEPTH = 100  # objects and arrays inside one another; Label Studio's own payloads use fewer than 10
NUMBER_MAX = 1e126  # DynamoDB: a number's magnitude is under 1e126 ...
NUMBER_MIN = 1e-130  # ... and, if not zero, at least 1e-130
_INT_BITS = int(NUMBER_MAX).bit_length()
_SURROGATE = re.compile("[\ud800-\udfff]")
# In ASCII JSON text a lone surrogate can only be a `\uD800`..`\uDFFF` escape: without one, and without
# any non-ASCII byte (json decodes UTF-8 with "surrogatepass"), a body needs no look at its strings.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
NON_FIELD = "non_field_errors"


class NotJSON(ValidationFailed):
    """The text is not JSON at all (as opposed to JSON holding something that cannot be stored)."""


class _NotANumber:
    """What `NaN`, `Infinity` and `-Infinity` parse to, so the walk can name where they were."""

    def __init__(self, literal: str):
        self.literal = literal


def number_problem(value: float | int) -> str | None:
    """Why DynamoDB cannot store `value` as a number (None if it can). Not for bools."""
    if isinstance(value, int):
        if value.bit_length() < _INT_BITS or abs(value) < NUMBER_MAX:
            return None
        return "Ensure this value is less than 1e126 in magnitude."
    if not math.isfinite(value):
        return "A finite number is required (NaN and Infinity are not numbers)."
    magnitude = abs(value)
    if magnitude >= NUMBER_MAX:
        return "Ensure this value is less than 1e126 in magnitude."
    if magnitude and magnitude < NUMBER_MIN:
        return "Ensure this value is 0 or at least 1e-130 in magnitude."
    return None


def _problem(value: Any, check_text: bool) -> str | None:
    """Why `value` itself (not what is inside it) cannot be stored, or None."""
    kind = type(value)
    if kind is str:
        if check_text and not value.isascii() and _SURROGATE.search(value):
            return "Text must be valid Unicode (a lone surrogate such as \\ud800 is not)."
        return None
    if kind is float or (kind is int and value.bit_length() >= _INT_BITS):
        return number_problem(value)
    if kind is _NotANumber:
        return f"{value.literal} is not a valid JSON number."
    return None


def _step(where: str, key: Any, is_dict: bool) -> str:
    if is_dict:
        return f"{where}.{key}" if where else str(key)
    return f"{where}[{key}]"


def _walk(value: Any, path: str, check_text: bool, depth: int = 1) -> tuple[str, str] | None:
    """The first (path, reason) in `value` that cannot be stored, or None. Iterative, so no recursion;
    the common leaves (ASCII text, small ints, None, bools) cost one type test each."""
    problem = _problem(value, check_text)
    if problem:
        return path, problem
    if not isinstance(value, dict | list):
        return None
    stack: list[tuple[Any, str, int]] = [(value, path, depth)]
    while stack:
        container, where, level = stack.pop()
        if level > MAX_DEPTH:
            # Not the path: it would be as long as the nesting.
            return "", f"Nesting is deeper than {MAX_DEPTH} levels."
        is_dict = type(container) is dict
        pairs = container.items() if is_dict else enumerate(container)
        for key, item in pairs:
            if is_dict and check_text and _problem(key, check_text):
                return where, "Keys must be valid Unicode (a lone surrogate such as \\ud800 is not)."
            kind = type(item)
            if kind is dict or kind is list:
                here = _step(where, key, is_dict)
                stack.append((item, here, level + 1))
            elif kind is not bool and kind is not type(None) and (kind is not str or check_text):
                problem = _problem(item, check_text)
                if problem:
                    return _step(where, key, is_dict), problem
    return None


def _refuse(field: str, where: str, problem: str) -> ValidationFailed:
    at = f" (at {where})" if where and where != field else ""
    return ValidationFailed.field(field, problem[:-1] + at + problem[-1:])


def check_storable(value: Any, field: str = NON_FIELD, *, check_text: bool = True) -> None:
    """Raise ValidationFailed under `field` if `value` (parsed JSON: dicts, lists, str, numbers, bools,
    None) has a non-finite number, a number out of DynamoDB's range, a lone surrogate in a string or a
    key, or nesting deeper than MAX_DEPTH. The message names the path inside `field`.

    `check_text=False` skips the strings, for callers that know no surrogate can be in them."""
    found = _walk(value, "", check_text)
    if found:
        raise _refuse(field, *found)


def check_body(value: Any, *, check_text: bool = True) -> None:
    """`check_storable` for a whole request body: a problem inside an object is named by its top-level
    key (Label Studio keys `validation_errors` by field), anything else by `non_field_errors`."""
    if not isinstance(value, dict):
        check_storable(value, NON_FIELD, check_text=check_text)
        return
    for key, item in value.items():
        if check_text and _problem(key, check_text):
            raise ValidationFailed.field(NON_FIELD, "Keys must be valid Unicode (a lone surrogate is not).")
        found = _walk(item, key, check_text, depth=2)
        if found:
            raise _refuse(key, *found)


def encoded_size(value: Any) -> int:
    """The bytes `value` takes as stored: compact JSON in UTF-8."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-8", "surrogatepass"))


def check_size(value: Any, field: str, max_bytes: int) -> None:
    """Raise ValidationFailed under `field` if `value` takes more than `max_bytes` as stored: for values
    kept inside an item, which DynamoDB bounds at 400 KB with everything else in it."""
    size = encoded_size(value)
    if size > max_bytes:
        raise ValidationFailed.field(field, f"Too large: {size} bytes as JSON, at most {max_bytes}.")


def parse(raw: bytes | str, field: str = NON_FIELD) -> Any:
    """`json.loads` for input from outside: a ValidationFailed under `field` (never ValueError or
    RecursionError) for text that is not JSON or holds what `check_storable` refuses; with the default
    `field`, an object's problems are named by its keys, as `check_body` does."""
    try:
        value = json.loads(raw, parse_constant=_NotANumber)
    except json.JSONDecodeError as exc:
        raise NotJSON({field: [f"JSON parse error - {exc}"]}) from None
    except UnicodeDecodeError:
        raise NotJSON({field: ["JSON parse error - the text is not valid UTF-8."]}) from None
    except RecursionError:
        raise ValidationFailed.field(field, f"Nesting is deeper than {MAX_DEPTH} levels.") from None
    except ValueError:  # an integer of more digits than int() converts
        raise ValidationFailed.field(field, "JSON parse error - a number has too many digits.") from None
    check_text = not isinstance(raw, bytes) or not raw.isascii() or _SURROGATE_ESCAPE.search(raw) is not None
    if field == NON_FIELD:
        check_body(value, check_text=check_text)
    else:
        check_storable(value, field, check_text=check_text)
    return value
