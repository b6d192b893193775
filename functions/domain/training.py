"""Training runs of an ML backend: when one is due, and what a run records.

Label Studio's rule (its project fields, `tasks/models.py` `update_ml_backend`): with
`min_annotations_to_start_training` = N, or `start_training_on_annotation_update` (N = 1), every saved
annotation that is not a ground truth — created or updated — trains each backend when the project's
annotation count is a multiple of N. Here a new annotation trains a backend once N annotations arrived
since its last successful run (the same cadence, kept by what was trained rather than by a count read at
some moment, and a failed run does not count, so the next annotation may start another); an updated one
trains when the count is a multiple of N, as in Label Studio, so with N = 1 every edit does. One run at a
time per backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from functions.domain.records import Project, utcnow

RUNNING, COMPLETED, FAILED = "running", "completed", "failed"
ERROR_MAX = 2000


@dataclass
class Training:
    id: int
    backend_id: int
    project_id: int
    kind: str  # the backend's kind: "http" (Label Studio's training webhook) or "sagemaker"
    trigger: str  # "annotations" (the stream) or "manual" (POST /api/ml/{id}/train)
    annotations: int  # the project's annotation count when the run started: what it trains on
    status: str = RUNNING
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None
    model_version: str | None = None
    metrics: dict = field(default_factory=dict)
    error: str | None = None
    execution: str | None = None  # the Step Functions execution ARN (AWS) or "local"


def annotations_per_run(project: Project) -> int:
    """How many new annotations start a run; 0 means never automatically."""
    if project.min_annotations_to_start_training > 0:
        return project.min_annotations_to_start_training
    return 1 if project.start_training_on_annotation_update else 0


def due(project: Project, trained_annotations: int, *, updated: bool = False) -> bool:
    """Whether a backend that last trained on `trained_annotations` annotations is due a run now that an
    annotation was created (or `updated`)."""
    every = annotations_per_run(project)
    if every <= 0:
        return False
    total = project.total_annotations_number
    return total - trained_annotations >= every or (updated and total > 0 and total % every == 0)


def execution_name(training: Training) -> str:
    """Deterministic, so a retried start cannot launch the same run twice (Step Functions refuses a
    second execution of one name)."""
    return f"labelstack-ml{training.backend_id}-run{training.id}"


def short_error(message: str) -> str:
    return message if len(message) <= ERROR_MAX else message[: ERROR_MAX - 1] + "…"


def training_json(training: Training, iso) -> dict:
    return {
        "id": training.id,
        "ml_backend": training.backend_id,
        "project": training.project_id,
        "kind": training.kind,
        "trigger": training.trigger,
        "status": training.status,
        "started_at": iso(training.started_at),
        "finished_at": iso(training.finished_at),
        "annotations": training.annotations,
        "model_version": training.model_version,
        "metrics": training.metrics,
        "error": training.error,
        "execution": training.execution,
    }
