"""Annotations. Their table's stream drives webhooks, target storage and training."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from types import SimpleNamespace
from typing import Any

from pynamodb.expressions.update import Action

from functions.domain.errors import NotFound
from functions.domain.records import Annotation
from functions.store import blobs, field_updates, ids, projects, tasks
from functions.store.atomic import atomic
from functions.store.child_writes import write_child
from functions.store.models import AnnotationModel, TaskModel


def _result_key(annotation_id: int) -> str:
    return f"annotations/{annotation_id}/result.json"


def _num(value):
    return int(value) if value is not None else None


def _to_annotation(item: AnnotationModel | SimpleNamespace) -> Annotation:
    return Annotation(
        id=int(item.id),
        task_id=int(item.task_id),
        project_id=int(item.project_id),
        result=blobs.unpack(item.result, item.result_ref, default=[]),
        completed_by=_num(item.completed_by),
        updated_by=_num(item.updated_by),
        was_cancelled=bool(item.was_cancelled),
        ground_truth=bool(item.ground_truth),
        lead_time=float(item.lead_time) if item.lead_time is not None else None,
        import_id=_num(item.import_id),
        parent_prediction=_num(item.parent_prediction),
        parent_annotation=_num(item.parent_annotation),
        last_action=item.last_action,
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version or 0),
        review_status=item.review_status,
        reviewed_by=_num(item.reviewed_by),
        reviewed_at=item.reviewed_at,
        review_comment=item.review_comment,
    )


def to_item(a: Annotation) -> AnnotationModel:
    result, result_ref = blobs.pack(a.result, _result_key(a.id))
    return AnnotationModel(
        a.id,
        task_id=a.task_id,
        project_id=a.project_id,
        result=result,
        result_ref=result_ref,
        completed_by=a.completed_by,
        updated_by=a.updated_by,
        was_cancelled=a.was_cancelled,
        ground_truth=a.ground_truth,
        lead_time=a.lead_time,
        import_id=a.import_id,
        parent_prediction=a.parent_prediction,
        parent_annotation=a.parent_annotation,
        last_action=a.last_action,
        created_at=a.created_at,
        updated_at=a.updated_at,
        version=a.version,
        review_status=a.review_status,
        reviewed_by=a.reviewed_by,
        reviewed_at=a.reviewed_at,
        review_comment=a.review_comment,
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
        return _to_annotation(AnnotationModel.get_plain(annotation_id))
    except AnnotationModel.DoesNotExist:
        raise NotFound("No Annotation matches the given query.") from None


def batch_get(annotation_ids: list[int]) -> list[Annotation]:
    if not annotation_ids:
        return []
    found = {int(item.id): item for item in AnnotationModel.batch_get_plain(annotation_ids)}
    return [_to_annotation(found[i]) for i in annotation_ids if i in found]


def _project_deltas(
    annotation: Annotation, task: TaskModel, sign: int, labeled_change: int
) -> dict[str, int]:
    """Project counters after the task update returned `task`: the 0<->1 crossing of the task's
    `total_annotations` is seen by exactly one of several concurrent writers."""
    cancelled = annotation.was_cancelled
    total_after = int(task.total_annotations or 0)
    crossed = (not cancelled) and total_after == (1 if sign > 0 else 0)
    return {
        "skipped_annotations_number" if cancelled else "total_annotations_number": sign,
        "ground_truth_number": sign * int(annotation.ground_truth),
        "num_tasks_with_annotations": sign * int(crossed),
        "finished_task_number": labeled_change,
    }


@atomic()
def insert(annotation: Annotation, *, counts_toward_labeled: bool) -> Annotation:
    """Store a new annotation: list it on its task, count it, end its author's lease, settle the rest.

    Counters move by atomic ADDs, so many annotators submitting to one task at once all succeed.
    """
    user = annotation.completed_by
    extra: list[Action] = []
    if user is not None:
        skipped = (
            TaskModel.skipped_by.add({user})
            if annotation.was_cancelled
            else TaskModel.skipped_by.delete({user})
        )
        extra = [TaskModel.annotators.add({user}), skipped, tasks.lease_path(user).remove()]
    if not annotation.was_cancelled:
        extra.append(TaskModel.completed_at.set(annotation.created_at))
    counters = {
        "cancelled_annotations" if annotation.was_cancelled else "total_annotations": 1,
        "labeling_count": int(counts_toward_labeled),
    }
    task = write_child(
        save=to_item(annotation),
        save_condition=AnnotationModel.id.does_not_exist(),
        kind="annotation",
        child_id=annotation.id,
        added=True,
        task_id=annotation.task_id,
        task_counters=counters,
        task_extra=extra,
        task_condition=~TaskModel.annotation_ids.contains(annotation.id),
    )
    labeled_change = tasks.settle_labeled(task)
    projects.add_counters(annotation.project_id, **_project_deltas(annotation, task, +1, labeled_change))
    return annotation


@atomic()
def remove(annotation: Annotation, *, counts_toward_labeled: bool, others: list[Annotation]) -> None:
    """Delete an annotation; `others` are the task's other annotations, which decide whether its author
    still counts as having answered the task."""
    user = annotation.completed_by
    extra: list[Action] = []
    if user is not None:
        mine = [a for a in others if a.completed_by == user]
        if not mine:
            extra = [TaskModel.annotators.delete({user}), TaskModel.skipped_by.delete({user})]
        elif all(a.was_cancelled for a in mine):
            extra = [TaskModel.skipped_by.add({user})]
    counters = {
        "cancelled_annotations" if annotation.was_cancelled else "total_annotations": -1,
        "labeling_count": -int(counts_toward_labeled),
    }
    task = write_child(
        delete=AnnotationModel(annotation.id),
        kind="annotation",
        child_id=annotation.id,
        added=False,
        task_id=annotation.task_id,
        task_counters=counters,
        task_extra=extra,
        task_condition=TaskModel.annotation_ids.contains(annotation.id),
    )
    labeled_change = tasks.settle_labeled(task)
    projects.add_counters(annotation.project_id, **_project_deltas(annotation, task, -1, labeled_change))


CHANGEABLE = (
    "result",
    "lead_time",
    "ground_truth",
    "last_action",
    "updated_by",
    "updated_at",
    "review_status",
    "reviewed_by",
    "reviewed_at",
    "review_comment",
)


def update_fields(
    annotation_id: int, changes: dict[str, Any], *, expected_version: int | None = None
) -> tuple[Annotation, Annotation]:
    """Set the fields in `changes` (of CHANGEABLE), and only those, in one UpdateItem that bumps the
    version; return the annotation as it was just before the write and as the write left it.

    Concurrent changes of other fields (a review and an edit) are kept (see field_updates.py). Conflict
    when `expected_version` is given and stale; NotFound when the annotation is gone.
    """
    actions = field_updates.child_actions(
        AnnotationModel, changes, CHANGEABLE, _result_key(annotation_id), "an annotation"
    )
    old = field_updates.update(
        AnnotationModel,
        annotation_id,
        actions,
        returning="old",
        expected_version=expected_version,
        stale="The annotation was changed by someone else; reload it and try again.",
        missing="No Annotation matches the given query.",
    )
    before = _to_annotation(old)
    return before, dataclasses.replace(before, **changes, version=before.version + 1)


def delete_many(annotation_ids: Iterable[int]) -> None:
    with AnnotationModel.batch_write() as batch:
        for annotation_id in annotation_ids:
            batch.delete(AnnotationModel(annotation_id))


def ids_of_project(project_id: int) -> Iterator[int]:
    """The ids of every annotation of the project, a page of 1,000 at a time."""
    for key in AnnotationModel.project_index.query(project_id, page_size=1000):
        yield int(key.id)
