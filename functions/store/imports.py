"""Import jobs: the record a client polls while a large import runs in the background."""

from __future__ import annotations

from typing import Any

from functions.domain.errors import NotFound
from functions.domain.records import ImportJob
from functions.store import ids
from functions.store.models import ImportJobModel

_FIELDS = (
    "project_id",
    "created_by",
    "status",
    "task_count",
    "annotation_count",
    "prediction_count",
    "first_task_id",
    "error",
    "duration",
    "created_at",
    "finished_at",
)
_INTS = {"project_id", "created_by", "task_count", "annotation_count", "prediction_count", "first_task_id"}


def _to_job(item: ImportJobModel) -> ImportJob:
    values: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(item, name)
        values[name] = int(value) if name in _INTS and value is not None else value
    return ImportJob(id=int(item.id), **values)


def new_id() -> int:
    return ids.reserve("import")


def create(job: ImportJob, body_ref: str | None) -> ImportJob:
    ImportJobModel(job.id, body_ref=body_ref, **{name: getattr(job, name) for name in _FIELDS}).save()
    return job


def update(job: ImportJob) -> ImportJob:
    """Write the job's progress fields; the body it was created with stays."""
    actions = [
        getattr(ImportJobModel, name).set(getattr(job, name))
        if getattr(job, name) is not None
        else getattr(ImportJobModel, name).remove()
        for name in _FIELDS
        if name not in ("project_id", "created_by", "created_at")
    ]
    ImportJobModel(job.id).update(actions=actions)
    return job


def unfinished() -> list[tuple[ImportJob, str | None]]:
    """Jobs not completed or failed, with their body's key. A Scan: for a local stack's start only, never
    on a request path (it reads the whole jobs table)."""
    condition = ImportJobModel.status.is_in("created", "in_progress")
    return [(_to_job(item), item.body_ref) for item in ImportJobModel.scan(condition)]


def get(job_id: int) -> tuple[ImportJob, str | None]:
    try:
        item = ImportJobModel.get(job_id)
    except ImportJobModel.DoesNotExist:
        raise NotFound("No FileUpload matches the given query.") from None
    return _to_job(item), item.body_ref
