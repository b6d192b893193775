"""Reading one field of a JSON body as the type it must have, with Django REST framework's messages.

Label Studio validates bodies with DRF serializers; clients show its messages, so these answer the same
way: a ValidationFailed naming the field. Numbers are also held to what DynamoDB can store.
"""

from __future__ import annotations

import math
from typing import Any

from functions.domain.errors import ValidationFailed
from functions.domain.json_limits import number_problem

INT32_MAX = 2**31 - 1  # Label Studio's integer columns (PostgreSQL `integer`)
ID_MAX = 2**63 - 1  # object ids: PostgreSQL `bigint`

# DRF's BooleanField spellings (1 and 0 are among them: they equal True and False).
_TRUE = {True, "true", "True", "TRUE", "t", "T", "yes", "Yes", "YES", "y", "Y", "on", "On", "ON", "1"}
_FALSE = {False, "false", "False", "FALSE", "f", "F", "no", "No", "NO", "n", "N", "off", "Off", "OFF", "0"}


def _null(field: str) -> ValidationFailed:
    return ValidationFailed.field(field, "This field may not be null.")


def text(value: Any, field: str, *, max_length: int | None = None) -> str:
    if value is None:
        raise _null(field)
    if not isinstance(value, str):
        raise ValidationFailed.field(field, "Not a valid string.")
    if max_length is not None and len(value) > max_length:
        raise ValidationFailed.field(field, f"Ensure this field has no more than {max_length} characters.")
    return value


def integer(value: Any, field: str, *, minimum: int | None = None, maximum: int = INT32_MAX) -> int:
    """An int (or a float with no fraction, as DRF takes 1.0); never a bool or a string."""
    if value is None:
        raise _null(field)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed.field(field, "A valid integer is required.")
    if minimum is not None and value < minimum:
        raise ValidationFailed.field(field, f"Ensure this value is greater than or equal to {minimum}.")
    if value > maximum:
        raise ValidationFailed.field(field, f"Ensure this value is less than or equal to {maximum}.")
    return value


def number(value: Any, field: str, *, from_text: bool = False) -> float:
    """A finite int or float DynamoDB can store, as a float; never a bool. A string only `from_text`
    (DRF's FloatField reads "0.5"), and then only one that spells such a number."""
    if value is None:
        raise _null(field)
    if from_text and isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValidationFailed.field(field, "A valid number is required.") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationFailed.field(field, "A valid number is required.")
    problem = number_problem(value)
    if problem:
        raise ValidationFailed.field(field, problem)
    return float(value)


def boolean(value: Any, field: str) -> bool:
    if value is None:
        raise _null(field)
    if isinstance(value, str | int) and value in _TRUE:
        return True
    if isinstance(value, str | int) and value in _FALSE:
        return False
    raise ValidationFailed.field(field, "Must be a valid boolean.")


def mapping(value: Any, field: str) -> dict:
    if value is None:
        raise _null(field)
    if not isinstance(value, dict):
        kind = {list: "list", str: "str", bool: "bool", int: "int", float: "float"}.get(type(value), "value")
        raise ValidationFailed.field(field, f'Expected a dictionary of items but got type "{kind}".')
    return value


def optional(read, value: Any, field: str, **bounds):
    """`read(value, field, **bounds)`, or None for None."""
    return None if value is None else read(value, field, **bounds)
