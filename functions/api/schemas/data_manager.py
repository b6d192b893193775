"""The Data Manager's bulk actions on selected tasks."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from functions.api.schemas.common import BodyInt, RequestBody, ResponseBody


class DataManagerAction(ResponseBody):
    id: str
    title: str
    order: int
    experimental: bool
    dialog: Any
    permission: str


class ActionRequest(RequestBody):
    """Which tasks: Label Studio's Data Manager query. Its contents are checked as a task list's
    `query` is (errors under `query`)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    filters: dict[str, Any] | None = Field(
        None, description='`{"conjunction": "and", "items": [{"filter", "operator", "type", "value"}]}`.'
    )
    ordering: list[Any] | None = Field(None, description='Columns such as "-tasks:id".')
    selected_items: dict[str, Any] | str | None = Field(
        None,
        alias="selectedItems",
        description='`{"all": true, "excluded": [ids]}` or `{"all": false, "included": [ids]}`.',
    )
    view: BodyInt | None = Field(None, description="A view of the project whose tasks to take instead.")


class ActionResult(ResponseBody):
    processed_items: int
    detail: str
    reload: bool | None = None
    skipped_items: int | None = None
    error: str | None = None
    job: int | None = Field(None, description="A background prediction job to poll at /api/ml/{id}/jobs.")
    ml_backend: int | None = None
