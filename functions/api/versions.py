"""The version a change is based on, as its client states it, and the ETag that tells a client the version.

A client that wants its change refused (409) when someone changed the object since it read it states the
version it read: `version` in the body, or `If-Match` with the ETag a GET or PATCH answered (`"3"`).
Without either, a change applies to what is stored, as in Label Studio.
"""

from __future__ import annotations

from functions.domain.errors import ValidationFailed


def etag(version: int) -> str:
    return f'"{version}"'


def stated_version(body: dict, if_match: str | None) -> int | None:
    """The version from the body's `version` or the `If-Match` header; None when the client stated none."""
    from_body = body.get("version")
    if from_body is not None and (isinstance(from_body, bool) or not isinstance(from_body, int)):
        raise ValidationFailed.field("version", "Expected the integer version the change is based on.")
    from_header = _if_match_version(if_match)
    if from_body is not None and from_header is not None and from_body != from_header:
        raise ValidationFailed.field("version", "The body's version and the If-Match header differ.")
    return from_body if from_body is not None else from_header


def _if_match_version(value: str | None) -> int | None:
    if value is None or value.strip() in ("", "*"):  # `*`: any current version will do
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not (tag.isascii() and tag.isdigit()):
        raise ValidationFailed.field("If-Match", 'Expected one ETag this API answered, such as "3".')
    return int(tag)
