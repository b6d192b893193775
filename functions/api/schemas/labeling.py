"""Annotations, predictions, reviews of annotations and agreement between annotators."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, WithJsonSchema

from functions.api.schemas.common import (
    BodyBool,
    BodyInt,
    FiniteFloat,
    Region,
    RequestBody,
    ResponseBody,
    StrictFiniteFloat,
    Timestamp,
    optional,
)
from functions.api.schemas.users import UserSimple

_RESULT = "The regions: a list of `{from_name, to_name, type, value}` objects, checked against the config."


class AnnotationRequest(RequestBody):
    """An annotation of a task; Label Studio's other fields (`completed_by`, ...) are accepted and
    ignored (the author is the caller)."""

    result: list[Region] | None = Field(None, description=_RESULT)
    was_cancelled: bool | None = Field(None, description="A skip: the task was seen and not labeled.")
    ground_truth: bool | None = None
    lead_time: StrictFiniteFloat | None = Field(None, description="Seconds spent labeling.")
    parent_prediction: BodyInt | None = Field(None, description="The prediction this started from.")
    parent_annotation: BodyInt | None = Field(None, description="The annotation this started from.")
    last_action: str | None = None
    draft_id: BodyInt | None = Field(
        None, description="The caller's draft of this task it comes from: the draft is removed."
    )


class PatchedAnnotationRequest(AnnotationRequest):
    version: BodyInt | None = Field(
        None,
        description="The `version` the change is based on; if someone changed the annotation since, "
        "the answer is a 409.",
    )


class AnnotationAuthor(UserSimple):
    initials: str


class Annotation(ResponseBody):
    id: int
    result: list[Region] | None
    created_username: str
    created_ago: str
    completed_by: int | AnnotationAuthor | None = Field(
        description="The author's id; in a task's detail, the author as an object."
    )
    was_cancelled: bool
    ground_truth: bool
    created_at: Timestamp
    updated_at: Timestamp
    draft_created_at: Timestamp | None
    lead_time: float | None
    import_id: int | None
    last_action: str | None
    bulk_created: bool
    task: int
    project: int
    updated_by: int | None
    parent_prediction: int | None
    parent_annotation: int | None
    last_created_by: int | None
    version: int = Field(description="Send it back with a change: a stale one is a 409.")
    review_status: str | None = Field(description="The latest review: accepted or rejected.")
    reviewed_by: int | None
    reviewed_at: Timestamp | None


# The ML backend that made a prediction. Documented as its id; anything else is ignored, as it always was.
MLBackendId = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "null"}]})]

# Label Studio's import shortcut: a whole result, one region, or a bare value (a choice, a rating).
PredictionResult = list[Region] | Region | str | int | float


class PredictionRequest(RequestBody):
    task: BodyInt
    result: PredictionResult = Field(
        description=f"{_RESULT} Or one region, or a bare value for the config's first control that can "
        "hold it (a choice, a number)."
    )
    score: FiniteFloat | None = None
    model_version: str | None = Field(None, description='At most 255 characters; "undefined" if left out.')
    model: MLBackendId = None


class PatchedPredictionRequest(RequestBody):
    result: PredictionResult = optional(_RESULT)
    score: FiniteFloat | None = None
    model_version: str | None = None


class Prediction(ResponseBody):
    id: int
    result: list[Region] | None
    model_version: str
    created_ago: str
    score: float | None
    cluster: int | None
    neighbors: Any
    mislabeling: float
    created_at: Timestamp
    updated_at: Timestamp
    model: int | None
    model_run: int | None
    task: int
    project: int


class ReviewRequest(RequestBody):
    model_config = ConfigDict(extra="ignore")

    annotation: BodyInt
    accepted: BodyBool = Field(description="true accepts the annotation, false rejects it.")
    comment: str | None = Field(None, description="At most 10,000 characters.")


class Review(ResponseBody):
    """Label Studio Enterprise's review shape. An annotation keeps its latest review, so the review's id
    is the annotation's."""

    id: int
    annotation: int
    accepted: bool
    created_by: int | None
    created_at: Timestamp | None
    comment: str | None


class TaskAgreement(ResponseBody):
    task: int
    annotations: int = Field(description="How many (not skipped) annotations were compared.")
    agreement: float | None = Field(description="Mean pairwise agreement, 0 to 1; null below two.")


class ProjectAgreement(ResponseBody):
    project: int
    tasks_with_agreement: int
    mean: float | None
    median: float | None
    min: float | None
    max: float | None
    histogram: list[int] = Field(description="Tasks per tenth of [0, 1]; the last bucket holds 1.0 too.")


class StreamHistoryEntry(ResponseBody):
    taskId: int  # noqa: N815 -- Label Studio's field name
    annotationId: int | None  # noqa: N815


class StreamProgress(ResponseBody):
    queue_done: int = Field(description="Tasks the caller has answered (in the view, with `view`).")
    queue_total: int = Field(
        description="Those, and the tasks still needing work the caller has not answered."
    )
