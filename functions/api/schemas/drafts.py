"""Annotation drafts: work in progress on a task, saved while labeling."""

from __future__ import annotations

from pydantic import Field

from functions.api.schemas.common import (
    BodyBool,
    Region,
    RequestBody,
    ResponseBody,
    StrictFiniteFloat,
    Timestamp,
)

_RESULT = "The regions so far: `{from_name, to_name, type, value}` objects, checked against the config."


class DraftRequest(RequestBody):
    result: list[Region] | None = Field(None, description=_RESULT)
    lead_time: StrictFiniteFloat | None = Field(None, description="Seconds spent labeling so far.")
    was_postponed: BodyBool | None = Field(None, description="Put aside to finish later.")


class Draft(ResponseBody):
    id: int
    user: str = Field(description="The author, as Label Studio writes a user: their email.")
    created_username: str
    created_ago: str
    result: list[Region]
    lead_time: float | None
    was_postponed: bool
    import_id: int | None
    created_at: Timestamp
    updated_at: Timestamp
    task: int
    annotation: int | None = Field(description="The submitted annotation this draft changes, if any.")
