"""Projects: their settings, Label Studio's project JSON, label config validation and members."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator

from functions.api.schemas.common import (
    BodyBool,
    BodyInt,
    RequestBody,
    ResponseBody,
    Timestamp,
    optional,
    whole_number,
)
from functions.api.schemas.users import User, UserSimple

Sampling = Literal["Sequential sampling", "Uniform sampling", "Uncertainty sampling"]
SkipQueue = Literal["REQUEUE_FOR_OTHERS", "REQUEUE_FOR_ME", "IGNORE_SKIPPED"]


class ProjectRequest(RequestBody):
    """A project's settings. Creating, fields left out (or null) keep their defaults; changing (PATCH),
    fields left out keep their values. Fields Label Studio has and labelstack does not use are accepted
    and ignored."""

    title: str | None = Field(None, description="At most 50 characters.")
    description: str | None = None
    label_config: str | None = Field(None, description="The labeling config, Label Studio's XML.")
    expert_instruction: str | None = Field(None, description="Labeling instructions, in HTML.")
    show_instruction: BodyBool = optional()
    show_skip_button: BodyBool = optional()
    enable_empty_annotation: BodyBool = optional()
    show_annotation_history: BodyBool = optional()
    color: str | None = None
    maximum_annotations: Annotated[int, Field(ge=1, le=2**31 - 1)] = optional(
        "How many annotations label a task (the overlap of new tasks)."
    )
    is_published: BodyBool = optional()
    model_version: str | None = Field(None, description="Whose predictions annotators see.")
    is_draft: BodyBool = optional()
    min_annotations_to_start_training: BodyInt = optional(
        "Train the ML backend after this many new annotations (0: never)."
    )
    start_training_on_annotation_update: BodyBool = optional()
    show_collab_predictions: BodyBool = optional()
    sampling: Sampling = optional("The order the label stream serves tasks in.")
    skip_queue: SkipQueue = optional("Where a skipped task goes.")
    show_ground_truth_first: BodyBool = optional()
    show_overlap_first: BodyBool = optional()
    overlap_cohort_percentage: BodyInt = optional()
    evaluate_predictions_automatically: BodyBool = optional(
        "Ask the ML backend for a prediction when a task is opened."
    )
    reveal_preannotations_interactively: BodyBool = optional()
    control_weights: dict[str, Any] = optional(
        "Per control tag, its weight and its labels' weights in agreement."
    )

    @field_validator("maximum_annotations", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        return whole_number(value)


class PatchedProjectRequest(ProjectRequest):
    version: BodyInt | None = Field(
        None,
        description="The `version` the change is based on (the ETag of a GET); if someone changed the "
        "project since, the answer is a 409. Without it the change applies to what is stored.",
    )


class Project(ResponseBody):
    id: int
    title: str
    description: str | None
    label_config: str
    expert_instruction: str | None
    show_instruction: bool
    show_skip_button: bool
    enable_empty_annotation: bool
    show_annotation_history: bool
    organization: int | None
    color: str | None
    maximum_annotations: int
    is_published: bool
    model_version: str | None
    is_draft: bool
    created_by: UserSimple
    created_at: Timestamp
    min_annotations_to_start_training: int
    start_training_on_annotation_update: bool
    show_collab_predictions: bool
    num_tasks_with_annotations: int
    task_number: int
    useful_annotation_number: int
    ground_truth_number: int
    skipped_annotations_number: int
    total_annotations_number: int
    total_predictions_number: int
    sampling: str
    show_ground_truth_first: bool
    annotator_evaluation_enabled: bool
    show_overlap_first: bool
    overlap_cohort_percentage: int
    task_data_login: str | None
    task_data_password: str | None
    control_weights: dict[str, Any] | None
    parsed_label_config: dict[str, Any]
    evaluate_predictions_automatically: bool
    config_has_control_tags: bool
    skip_queue: str
    reveal_preannotations_interactively: bool
    pinned_at: Timestamp | None
    finished_task_number: int
    queue_total: int
    queue_done: int
    config_suitable_for_bulk_annotation: bool
    state: str | None


class StaticModelVersion(ResponseBody):
    model_version: str
    count: int = Field(description="How many of the project's predictions carry it.")
    latest: Timestamp | None = Field(description="When the latest of them was stored.")


class ExtendedModelVersions(ResponseBody):
    """`?extended=true`: the versions predictions carry and, with `include_live_models=true`, the
    project's ML backends (whose titles the project's `model_version` may name too)."""

    static: list[StaticModelVersion]
    live: list[dict[str, Any]] | None = Field(
        description="The project's ML backends (GET /api/ml's objects); null without include_live_models."
    )


class LabelConfigRequest(RequestBody):
    model_config = ConfigDict(extra="ignore")

    label_config: str | None = Field(None, description="The labeling config to check, Label Studio's XML.")


class LabelConfigCheck(ResponseBody):
    parsed_label_config: dict[str, Any] = Field(
        description="Per control tag: its type, the object tags it labels and its labels."
    )
    data_keys: list[str] = Field(description="The task data fields the config reads.")


class MemberRequest(RequestBody):
    model_config = ConfigDict(extra="ignore")

    user: BodyInt = Field(description="The id of the user to add.")


class ProjectMember(ResponseBody):
    user: User
