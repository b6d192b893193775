"""Tasks: Label Studio's task JSON in its three forms (alone, in a list page, in detail with its
annotations and predictions), the task list page, and the label stream's next task."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from functions.api.schemas.common import BodyInt, RequestBody, ResponseBody, Timestamp
from functions.api.schemas.labeling import Annotation, Prediction


class TaskRequest(RequestBody):
    model_config = ConfigDict(extra="ignore")

    project: BodyInt
    data: dict[str, Any] = Field(description="The task's data: the fields the label config reads ($text).")
    meta: dict[str, Any] | None = None


class PatchedTaskRequest(RequestBody):
    model_config = ConfigDict(extra="ignore")

    data: dict[str, Any] | None = Field(None, description="Replaces the task's data; null keeps it.")
    meta: dict[str, Any] | None = Field(None, description="Replaces the task's meta; null keeps it.")
    version: BodyInt | None = Field(
        None,
        description="The `version` the change is based on (the ETag of a GET); if someone changed the "
        "task since, the answer is a 409. Without it the change applies to what is stored.",
    )


class _TaskFields(ResponseBody):
    id: int
    data: dict[str, Any]
    meta: dict[str, Any] | None
    created_at: Timestamp
    updated_at: Timestamp
    is_labeled: bool
    overlap: int
    inner_id: int
    total_annotations: int
    cancelled_annotations: int
    total_predictions: int
    comment_count: int
    unresolved_comment_count: int
    last_comment_updated_at: Timestamp | None
    project: int
    file_upload: str | None
    comment_authors: list[Any]


class Task(_TaskFields):
    """A task without its annotations (the answer to creating one)."""

    updated_by: int | None


class UpdatedTask(Task):
    annotations: list[Annotation]
    predictions: list[Prediction]


class TaskListItem(_TaskFields):
    """A task in a list page with the default fields: no annotations or predictions."""

    drafts: list[Any]
    annotators: list[int]
    annotations_results: str
    predictions_results: str
    storage_filename: str | None
    annotations_ids: str = Field(description="The annotations' ids, comma-separated.")
    predictions_model_versions: str
    updated_by: list[dict[str, Any]] = Field(description="`[{user_id}]` of who changed the task last.")


class TaskDetail(TaskListItem):
    """A task with its annotations and predictions (one task; a list page with `fields=all`)."""

    annotations: list[Annotation]
    predictions: list[Prediction]
    completed_at: Timestamp | None
    predictions_score: float | None
    avg_lead_time: float | None
    draft_exists: bool


class TaskPage(ResponseBody):
    total_annotations: int = Field(description="The project's annotations in all.")
    total_predictions: int = Field(description="The project's predictions in all.")
    total: int = Field(description="The tasks the list has in all (all of the project's, or those matching).")
    tasks: list[TaskDetail | TaskListItem]


class NextTask(TaskDetail):
    """The next task for the caller to label, held for them for a while."""

    unique_lock_id: str
    queue: str = Field(description="Which queue the task came from.")
