"""What several resources share: the base classes of request and response models, the error and page
envelopes, and the field types of ids, timestamps, numbers and query flags."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticUseDefault

from functions.api.bodies import flag

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class RequestBody(BaseModel):
    """A JSON request body. Label Studio's serializers ignore fields they do not know, and the services
    pick the fields they use out of what was sent, so unknown fields pass through untyped."""

    model_config = ConfigDict(extra="allow")

    def sent(self) -> dict[str, Any]:
        """The fields the client sent, under Label Studio's names, unknown ones included: what the
        services take (a field left out is not changed, which is not the same as a null)."""
        return self.model_dump(exclude_unset=True, by_alias=True)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def optional(description: str | None = None) -> Any:
    """A field a request may leave out but, when it sends it, not as null (Label Studio's `required=False`
    without `allow_null`). Routes pass on only the fields sent, so the default is never used; it is
    typed `Any` so the field's own type stays what a sent value must be."""
    return Field(None, description=description, json_schema_extra=_no_default)


class ResponseBody(BaseModel):
    """A JSON answer. Documents the fields Label Studio clients read; any other field the route returns
    is kept (the route class answers exactly the keys the route returned)."""

    model_config = ConfigDict(extra="allow")


class EmptyObject(ResponseBody):
    """`{}`."""


# --- field types ----------------------------------------------------------------------------------------

# A whole number in a JSON body (an id, a count): not `true` or `"1"`, and one the store can hold.
BodyInt = Annotated[int, Field(strict=True, ge=INT64_MIN, le=INT64_MAX)]
# A yes/no field in a JSON body, read as Django REST framework's BooleanField reads it (Label Studio's
# clients send `true`, "true", "false", 1, 0): anything else is a 400.
BodyBool = bool
# An id in a path or a query string (a required one: empty is not a number): text that reads as a whole
# number the store can hold.
ObjectId = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]


def _number_not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("A valid number is required.")
    return value


def whole_number(value: Any) -> Any:
    """A count as the project's checks read it: DRF's IntegerField takes 2.0 as 2; `true` and "1" are
    refused. A model's `field_validator(mode="before")`, so the field's bounds stay in its schema."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("A valid integer is required.")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("A valid integer is required.")
    return int(value)


# A number sent in a body: an integer or a decimal (or its text, as DRF's FloatField reads "0.5"), finite
# (JSON has no NaN or Infinity), never `true`.
FiniteFloat = Annotated[float, BeforeValidator(_number_not_bool), Field(allow_inf_nan=False)]
StrictFiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]
# When something happened: ISO 8601 in UTC with microseconds, as Label Studio writes it.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
# A region of an annotation or prediction result: `{from_name, to_name, type, value, ...}`.
Region = dict[str, Any]


def _blank_is_unset(value: Any) -> Any:
    # `?page=` is the same as no `page`: clients build query strings from empty form fields.
    if value == "":
        raise PydanticUseDefault()
    return value


def _read_flag(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise PydanticUseDefault()
        return flag(value)
    return value


# A whole number in an optional query parameter; empty is the default.
QueryInt = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX), BeforeValidator(_blank_is_unset)]
# A yes/no query flag: 1/true/yes/on (any case; the legacy SDK sends Python's `True`) are true, anything
# else false, empty the default.
QueryFlag = Annotated[bool, BeforeValidator(_read_flag)]


# --- envelopes ------------------------------------------------------------------------------------------


class ErrorBody(ResponseBody):
    """Label Studio's error answer. Clients read `detail`, and `validation_errors` on a 400: field name
    (dotted for nested fields, `non_field_errors` for the body as a whole) to its messages."""

    id: str = Field(description="An id for this error, to find it in the logs.")
    status_code: int
    version: str = Field(description="The labelstack version that answered.")
    detail: str
    exc_info: str | None = None
    validation_errors: dict[str, list[str]] | None = None


_ERROR_DESCRIPTIONS = {
    400: "The request is invalid: `validation_errors` names each field that is wrong.",
    401: "No credentials, or credentials that do not check out.",
    403: "The caller may not do this (role, or a missing CSRF token with a session cookie).",
    404: "No such object, or one the caller may not see.",
    409: "A concurrent change won, or the same request is still running: read again and retry.",
    413: "The request body is larger than this installation accepts.",
    429: "Too many failed attempts: try again after the `Retry-After` header's seconds.",
    501: "Not implemented by labelstack.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each Label Studio's error envelope."""
    return {code: {"model": ErrorBody, "description": _ERROR_DESCRIPTIONS[code]} for code in codes}


# What most routes can answer: a bad parameter or body, no or bad credentials, no permission, no such
# object. Routers declare these; routes add 409 or 413 where they can happen.
COMMON_ERRORS = error_responses(400, 401, 403, 404)

T = TypeVar("T")


class Page(ResponseBody, Generic[T]):
    """Django REST framework's page: `count` in all, links to the pages either side, this page's items."""

    count: int
    next: str | None
    previous: str | None
    results: list[T]

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return f"Paginated{params[0].__name__}List"  # Label Studio's schema names it so
