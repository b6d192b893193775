"""Annotations. Their table's stream drives webhooks, target storage and training."""

from __future__ import annotations

from collections.abc import Iterable

from functions.domain.errors import NotFound
from functions.domain.records import Annotation
from functions.store import blobs, ids
from functions.store.child_writes import write_child
from functions.store.errors import conflict_on_condition
from functions.store.models import AnnotationModel, TaskModel


def _result_key(annotation_id: int) -> str:
    return f"annotations/{annotation_id}/result.json"


def _num(value):
    return int(value) if value is not None else None


def _to_annotation(item: AnnotationModel) -> Annotation:
    return Annotation(
        id=int(item.id), task_id=int(item.task_id), project_id=int(item.project_id),
        result=blobs.unpack(item.result, item.result_ref, default=[]),
        completed_by=_num(item.completed_by), updated_by=_num(item.updated_by),
        was_cancelled=bool(item.was_cancelled), ground_truth=bool(item.ground_truth),
        lead_time=float(item.lead_time) if item.lead_time is not None else None,
        import_id=_num(item.import_id), parent_prediction=_num(item.parent_prediction),
        parent_annotation=_num(item.parent_annotation), last_action=item.last_action,
        created_at=item.created_at, updated_at=item.updated_at, version=int(item.version or 0),
    )


def to_item(a: Annotation) -> AnnotationModel:
    result, result_ref = blobs.pack(a.result, _result_key(a.id))
    return AnnotationModel(
        a.id, task_id=a.task_id, project_id=a.project_id, result=result, result_ref=result_ref,
        completed_by=a.completed_by, updated_by=a.updated_by, was_cancelled=a.was_cancelled,
        ground_truth=a.ground_truth, lead_time=a.lead_time, import_id=a.import_id,
        parent_prediction=a.parent_prediction, parent_annotation=a.parent_annotation,
        last_action=a.last_action, created_at=a.created_at, updated_at=a.updated_at, version=a.version,
    )


def new_ids(count: int) -> int:
    return ids.reserve("annotation", count)


def put_many(annotations: Iterable[Annotation]) -> int:
    written = 0
    with AnnotationModel.batch_write() as batch:
        for annotation in annotations:
            batch.save(to_item(annotation))
            written += 1
    return written


def get(annotation_id: int) -> Annotation:
    try:
        return _to_annotation(AnnotationModel.get(annotation_id))
    except AnnotationModel.DoesNotExist:
        raise NotFound("No Annotation matches the given query.") from None


def batch_get(annotation_ids: list[int]) -> list[Annotation]:
    if not annotation_ids:
        return []
    found = {int(item.id): item for item in AnnotationModel.batch_get(annotation_ids)}
    return [_to_annotation(found[i]) for i in annotation_ids if i in found]


def insert(annotation: Annotation, *, task_counters: dict[str, int], task_is_labeled: bool | None,
           expected_task_counts: tuple[int, int], project_counters: dict[str, int]) -> Annotation:
    """Store a new annotation and its task's and project's counters in one transaction.

    `expected_task_counts` is (total_annotations, cancelled_annotations) as read: if another annotation
    landed meanwhile the transaction fails with Conflict and the caller recomputes `is_labeled`.
    """
    total, cancelled = expected_task_counts
    write_child(
        save=to_item(annotation), save_condition=AnnotationModel.id.does_not_exist(),
        kind="annotation", child_id=annotation.id, added=True, task_id=annotation.task_id,
        task_counters=task_counters, task_is_labeled=task_is_labeled,
        task_condition=(TaskModel.total_annotations == total) & (TaskModel.cancelled_annotations == cancelled)
        & ~TaskModel.annotation_ids.contains(annotation.id),
        project_id=annotation.project_id, project_counters=project_counters,
    )
    return annotation


def remove(annotation: Annotation, *, task_counters: dict[str, int], task_is_labeled: bool | None,
           expected_task_counts: tuple[int, int], project_counters: dict[str, int]) -> None:
    total, cancelled = expected_task_counts
    write_child(
        delete=AnnotationModel(annotation.id), kind="annotation", child_id=annotation.id, added=False,
        task_id=annotation.task_id, task_counters=task_counters, task_is_labeled=task_is_labeled,
        task_condition=(TaskModel.total_annotations == total) & (TaskModel.cancelled_annotations == cancelled),
        project_id=annotation.project_id, project_counters=project_counters,
    )


def save(annotation: Annotation, expected_version: int) -> Annotation:
    """Overwrite an annotation if nobody changed it since `expected_version` (a stale write is Conflict)."""
    annotation.version = expected_version + 1
    with conflict_on_condition("The annotation was changed by someone else; reload it and try again."):
        to_item(annotation).save(condition=AnnotationModel.version == expected_version)
    return annotation


def delete_many(annotation_ids: Iterable[int]) -> None:
    with AnnotationModel.batch_write() as batch:
        for annotation_id in annotation_ids:
            batch.delete(AnnotationModel(annotation_id))
