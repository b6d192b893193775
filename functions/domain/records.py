"""The records labelstack keeps, as plain dataclasses.

The store turns DynamoDB items into these and back; services and the API never see PynamoDB. Field names
follow Label Studio's where one exists, so the JSON the API returns is mostly a rename away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

ROLES = ("admin", "manager", "reviewer", "annotator")
SAMPLING_MODES = ("Sequential sampling", "Uniform sampling", "Uncertainty sampling")
SKIP_QUEUES = ("REQUEUE_FOR_OTHERS", "REQUEUE_FOR_ME", "IGNORE_SKIPPED")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class User:
    id: int
    email: str
    role: str = "annotator"
    username: str = ""
    first_name: str = ""
    last_name: str = ""
    created_at: datetime = field(default_factory=utcnow)
    last_activity: datetime | None = None
    is_active: bool = True
    # Stamped into every session and personal access token at mint and compared on use: bumping it
    # revokes all of them at once (reset token, sign out everywhere, deactivation).
    credential_generation: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_manage_projects(self) -> bool:
        return self.role in ("admin", "manager")


@dataclass
class Project:
    id: int
    title: str
    created_by: int
    description: str = ""
    label_config: str = "<View></View>"
    expert_instruction: str = ""
    show_instruction: bool = False
    show_skip_button: bool = True
    enable_empty_annotation: bool = True
    show_annotation_history: bool = False
    color: str = "#FFFFFF"
    maximum_annotations: int = 1
    is_published: bool = False
    model_version: str = ""
    is_draft: bool = False
    min_annotations_to_start_training: int = 0
    start_training_on_annotation_update: bool = False
    show_collab_predictions: bool = True
    sampling: str = "Sequential sampling"
    skip_queue: str = "REQUEUE_FOR_OTHERS"
    show_ground_truth_first: bool = False
    show_overlap_first: bool = False
    overlap_cohort_percentage: int = 100
    evaluate_predictions_automatically: bool = False
    reveal_preannotations_interactively: bool = False
    control_weights: dict = field(default_factory=dict)
    created_at: datetime = field(default_factory=utcnow)
    # Counters, kept by atomic updates as tasks, annotations and predictions come and go.
    task_number: int = 0
    total_annotations_number: int = 0
    skipped_annotations_number: int = 0
    ground_truth_number: int = 0
    total_predictions_number: int = 0
    num_tasks_with_annotations: int = 0
    finished_task_number: int = 0
    # Task removals ever (deletes, undone imports): with task_number it names the project's set of tasks,
    # on which page bookmarks are kept (functions/store/page_bookmarks.py).
    tasks_removed: int = 0
    # Bumped by every settings edit (counters do not bump it): a client that states the version it read
    # gets a 409 when it is stale; one that states none has its edit applied to the stored settings.
    version: int = 0


@dataclass
class Task:
    id: int
    project_id: int
    data: dict
    meta: dict = field(default_factory=dict)
    inner_id: int = 0
    overlap: int = 1
    is_labeled: bool = False
    total_annotations: int = 0
    cancelled_annotations: int = 0
    total_predictions: int = 0
    annotation_ids: list[int] = field(default_factory=list)
    prediction_ids: list[int] = field(default_factory=list)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    updated_by: int | None = None
    version: int = 0
    # Label stream state: answers counted toward `is_labeled`, who answered, whose answer was a skip.
    labeling_count: int = 0
    annotators: list[int] = field(default_factory=list)
    skipped_by: list[int] = field(default_factory=list)
    prediction_scores: dict[str, float] = field(default_factory=dict)  # model version -> latest score
    locks: dict[int, float] = field(default_factory=dict)  # user id -> lease expiry, epoch seconds
    completed_at: datetime | None = None  # when the latest submitted (not skipped) answer came
    lease_rev: int = 0

    @property
    def predictions_score(self) -> float | None:
        """The Data Manager's column: the mean score of the task's model versions."""
        scores = list(self.prediction_scores.values())
        return sum(scores) / len(scores) if scores else None


@dataclass
class Annotation:
    id: int
    task_id: int
    project_id: int
    result: list
    completed_by: int | None = None
    updated_by: int | None = None
    was_cancelled: bool = False
    ground_truth: bool = False
    lead_time: float | None = None
    import_id: int | None = None
    parent_prediction: int | None = None
    parent_annotation: int | None = None
    last_action: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 0
    review_status: str | None = None  # "accepted" | "rejected", the latest review
    reviewed_by: int | None = None
    reviewed_at: datetime | None = None
    review_comment: str | None = None


@dataclass
class Prediction:
    id: int
    task_id: int
    project_id: int
    result: list
    score: float | None = None
    model_version: str = "undefined"
    model: int | None = None
    cluster: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)


@dataclass
class ImportJob:
    id: int
    project_id: int
    created_by: int
    status: str = "created"  # created | in_progress | completed | failed
    task_count: int = 0
    annotation_count: int = 0
    prediction_count: int = 0
    first_task_id: int | None = None
    error: str | None = None
    duration: float | None = None
    created_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None

    @property
    def task_ids(self) -> list[int]:
        # One import reserves one contiguous id range, so the ids need not be stored one by one.
        if self.first_task_id is None:
            return []
        return list(range(self.first_task_id, self.first_task_id + self.task_count))
