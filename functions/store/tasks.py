"""Tasks: the unit of labeling work. A project's tasks are read a page at a time through its index."""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Iterable, Iterator
from types import SimpleNamespace
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from functions.domain.errors import NotFound
from functions.domain.label_stream import uncertainty
from functions.domain.records import Task
from functions.settings import get_settings
from functions.store import blobs, bulk, field_updates, page_bookmarks
from functions.store.errors import conflict_on_condition
from functions.store.models import TaskModel

# Uniform sampling reads the random-order index from a random point, so the order is redrawn per call.
QUEUE_RANDOM_RANGE = 2**31


def _data_key(task_id: int) -> str:
    return f"tasks/{task_id}/data.json"


def _to_task(item: TaskModel | SimpleNamespace) -> Task:
    return Task(
        id=int(item.id),
        project_id=int(item.project_id),
        data=blobs.unpack(item.data, item.data_ref, default={}),
        meta=json.loads(item.meta or "{}"),
        inner_id=int(item.inner_id or 0),
        overlap=int(item.overlap or 1),
        is_labeled=bool(item.is_labeled),
        total_annotations=int(item.total_annotations or 0),
        cancelled_annotations=int(item.cancelled_annotations or 0),
        total_predictions=int(item.total_predictions or 0),
        annotation_ids=sorted(int(i) for i in (item.annotation_ids or ())),
        prediction_ids=sorted(int(i) for i in (item.prediction_ids or ())),
        created_at=item.created_at,
        updated_at=item.updated_at,
        updated_by=int(item.updated_by) if item.updated_by is not None else None,
        version=int(item.version or 0),
        labeling_count=int(item.labeling_count or 0),
        annotators=sorted(int(i) for i in (item.annotators or ())),
        skipped_by=sorted(int(i) for i in (item.skipped_by or ())),
        prediction_scores=read_scores(item.prediction_scores),
        locks=read_locks(item.locks),
        lease_rev=int(item.lease_rev or 0),
        completed_at=item.completed_at,
    )


def plain_map(value) -> dict:
    """A raw MapAttribute's value as a dict (PynamoDB hands back either form); anything else, {}."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    return value if isinstance(value, dict) else {}


# `prediction_scores` is keyed by model version, which users choose, and DynamoDB refuses an empty map
# key. So a key is the version with a `~` put before it when the version is empty or starts with `~`:
# "" is stored as "~", "~v" as "~~v", any other version as itself (what was stored before this rule).
_SCORE_KEY_MARK = "~"


def _score_key(model_version: str) -> str:
    if model_version == "" or model_version.startswith(_SCORE_KEY_MARK):
        return _SCORE_KEY_MARK + model_version
    return model_version


def _model_version_of(key: str) -> str:
    return key[1:] if key.startswith(_SCORE_KEY_MARK) else key


def _finite(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def read_scores(raw) -> dict[str, float]:
    """The stored scores by model version. An entry that is not a finite number is left out, so a task
    holding one (written before the API checked scores) still reads, lists, exports and deletes."""
    scores = {}
    for key, value in plain_map(raw).items():
        number = _finite(value)
        if isinstance(key, str) and number is not None:
            scores[_model_version_of(key)] = number
    return scores


def _stored_scores(scores: dict[str, float]) -> dict[str, float]:
    return {_score_key(version): score for version, score in scores.items()}


def read_locks(raw) -> dict[int, float]:
    """Lease expiries by user id; an entry that is not (user id, number) is left out."""
    locks = {}
    for key, value in plain_map(raw).items():
        expires = _finite(value)
        if isinstance(key, str) and key.isdigit() and expires is not None:
            locks[int(key)] = expires
    return locks


def to_item(task: Task, model_version: str = "") -> TaskModel:
    """A new task's item; `model_version` is the project's, whose score orders Uncertainty sampling."""
    values = item_values(task, model_version)
    return TaskModel(values.pop("id"), **values)


def item_values(task: Task, model_version: str = "") -> dict[str, Any]:
    """A new task's attributes, by name (see `to_item`)."""
    data, data_ref = blobs.pack(task.data, _data_key(task.id))
    return {
        "id": task.id,
        "project_id": task.project_id,
        "data": data,
        "data_ref": data_ref,
        "meta": blobs.dumps(task.meta) if task.meta else "{}",
        "inner_id": task.inner_id,
        "overlap": task.overlap,
        "is_labeled": task.is_labeled,
        "total_annotations": task.total_annotations,
        "cancelled_annotations": task.cancelled_annotations,
        "total_predictions": task.total_predictions,
        "annotation_ids": set(task.annotation_ids) or None,
        "prediction_ids": set(task.prediction_ids) or None,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "updated_by": task.updated_by,
        "version": task.version,
        "labeling_count": task.labeling_count,
        "annotators": set(task.annotators) or None,
        "skipped_by": set(task.skipped_by) or None,
        "prediction_scores": _stored_scores(task.prediction_scores),
        "completed_at": task.completed_at,
        "locks": {},
        "lease_rev": 0,
        "queue_random": random.randrange(QUEUE_RANDOM_RANGE),  # noqa: S311 -- a shuffled queue order, no secret
        "queue_project": None if task.is_labeled else task.project_id,
        "uncertainty": uncertainty(task.prediction_scores, model_version),
    }


def put_many(tasks: Iterable[Task], model_version: str = "") -> int:
    """Write new tasks in BatchWriteItem requests of 25. Returns how many were written."""
    return bulk.put_items(
        TaskModel, (bulk.wire_item(TaskModel, item_values(task, model_version)) for task in tasks)
    )


def create(task: Task) -> Task:
    with conflict_on_condition("task id already taken"):
        to_item(task).save(condition=TaskModel.id.does_not_exist())
    return task


def get(task_id: int, *, consistent: bool = False) -> Task:
    try:
        return _to_task(TaskModel.get_plain(task_id, consistent=consistent))
    except TaskModel.DoesNotExist:
        raise NotFound("No Task matches the given query.") from None


def batch_get(task_ids: list[int]) -> list[Task]:
    """Tasks in the order of `task_ids` (missing ones left out)."""
    if not task_ids:
        return []
    found = {int(item.id): item for item in TaskModel.batch_get_plain(task_ids)}
    return [_to_task(found[i]) for i in task_ids if i in found]


def page_ids(
    project_id: int, offset: int, limit: int, generation: tuple[int, ...] | None = None
) -> list[int]:
    """Task ids `offset`..`offset+limit` of a project, in id order.

    DynamoDB has no OFFSET: the skipped part is counted (Select=COUNT over the keys-only index, up to
    1 MB of keys — tens of thousands — per call), then one page of keys is read. With `generation` (the
    project's task set, see page_bookmarks.py) the count starts at the nearest page this process served.
    """
    conn = TaskModel._get_connection()
    index = TaskModel.project_index.Meta.index_name
    counted, after_id = page_bookmarks.nearest(project_id, generation, offset) if generation else (0, None)
    start_key = None if after_id is None else _index_key(project_id, after_id)
    remaining = offset - counted
    while remaining > 0:
        page = conn.query(
            str(project_id), index_name=index, select="COUNT", limit=remaining, exclusive_start_key=start_key
        )
        remaining -= page["Count"]
        start_key = page.get("LastEvaluatedKey")
        if start_key is None:
            return []
    settle = 0.0 if get_settings().store_engine == "sqlite" else INDEX_SETTLE_SECONDS
    if generation and start_key is not None and counted < offset:
        page_bookmarks.note(project_id, generation, offset, int(start_key["id"]["N"]), settle_seconds=settle)
    found = list(itertools.islice(_index_ids(project_id, start_key, limit), limit))
    if generation and found:
        page_bookmarks.note(project_id, generation, offset + len(found), found[-1], settle_seconds=settle)
    return found


# How long a changed task set must have been current before its pages are noted: DynamoDB's index
# catches up with a write within a second or so (page_bookmarks.py); the sqlite engine's at once.
INDEX_SETTLE_SECONDS = 5.0


def _index_key(project_id: int, task_id: int) -> dict:
    """The project index's ExclusiveStartKey that resumes just after `task_id` (its keys and the table's)."""
    return {"project_id": {"N": str(project_id)}, "id": {"N": str(task_id)}}


def _index_ids(project_id: int, start_key: dict | None, page_size: int) -> Iterator[int]:
    """The project's task ids after `start_key` (None: from the first), in id order, `page_size` keys a
    Query, read lazily from the index's wire form: a Model per key cost more than the export that walks
    them."""
    conn = TaskModel._get_connection()
    index = TaskModel.project_index.Meta.index_name
    while True:
        page = conn.query(str(project_id), index_name=index, limit=page_size, exclusive_start_key=start_key)
        for item in page.get("Items", []):
            yield int(item["id"]["N"])
        start_key = page.get("LastEvaluatedKey")
        if start_key is None:
            return


def iter_ids(project_id: int) -> Iterator[list[int]]:
    """All of a project's task ids, a chunk of at most 100 at a time (one BatchGetItem each)."""
    ids = _index_ids(project_id, None, 1000)
    while chunk := list(itertools.islice(ids, 100)):
        yield chunk


PATCHABLE = ("data", "meta", "updated_at", "updated_by")


def update_fields(task_id: int, changes: dict[str, Any], *, expected_version: int | None = None) -> Task:
    """Set the fields in `changes` (of PATCHABLE; `data` and `meta` each replaced whole), and only those,
    in one UpdateItem that bumps the version; return the task as the write left it.

    Concurrent changes of other fields (and counters, leases, scores) are kept (see field_updates.py).
    Conflict when `expected_version` is given and stale; NotFound when the task is gone.
    """
    actions: list[Action] = []
    for name, value in changes.items():
        if name == "data":
            data, data_ref = blobs.pack(value, _data_key(task_id))
            actions += [
                field_updates.set_or_remove(TaskModel.data, data),
                field_updates.set_or_remove(TaskModel.data_ref, data_ref),
            ]
        elif name == "meta":
            actions.append(TaskModel.meta.set(blobs.dumps(value)))
        elif name in PATCHABLE:
            actions.append(field_updates.set_or_remove(getattr(TaskModel, name), value))
        else:
            raise ValueError(f"{name!r} is not a field a task change sets")
    item = field_updates.update(
        TaskModel,
        task_id,
        actions,
        returning="new",
        expected_version=expected_version,
        stale="The task was changed by someone else; reload it and try again.",
        missing="No Task matches the given query.",
    )
    return _to_task(item)


def score_actions(scores: dict[str, float], uncertainty: float | None) -> list:
    """Set the task's per-version prediction scores and its Uncertainty-sampling key."""
    return [
        TaskModel.prediction_scores.set(_stored_scores(scores)),
        TaskModel.uncertainty.set(uncertainty) if uncertainty is not None else TaskModel.uncertainty.remove(),
    ]


def set_scores(task_id: int, scores: dict[str, float], uncertainty: float | None) -> None:
    TaskModel(task_id).update(actions=score_actions(scores, uncertainty), condition=TaskModel.id.exists())


def set_queue_settings(task_id: int, overlap: int, uncertainty: float | None) -> int:
    """Apply the project's overlap and sampling key to a task; return its `is_labeled` change."""
    item = TaskModel(task_id)
    with conflict_on_condition("No Task matches the given query."):
        item.update(
            actions=[
                TaskModel.overlap.set(overlap),
                TaskModel.uncertainty.set(uncertainty)
                if uncertainty is not None
                else TaskModel.uncertainty.remove(),
            ],
            condition=TaskModel.id.exists(),
        )
    return settle_labeled(item)


def delete(task_id: int, data_ref: str | None = None) -> None:
    TaskModel(task_id).delete()
    blobs.delete(data_ref)


def delete_many(task_ids: Iterable[int]) -> None:
    with TaskModel.batch_write() as batch:
        for task_id in task_ids:
            batch.delete(TaskModel(task_id))


# Update expressions for the task a child belongs to (see child_writes.py).
def child_actions(kind: str, child_id: int, counters: dict[str, int], *, added: bool) -> list:
    """List (or unlist) the child's id on its task and add `counters`."""
    ids_attr = TaskModel.annotation_ids if kind == "annotation" else TaskModel.prediction_ids
    actions = [ids_attr.add({child_id}) if added else ids_attr.delete({child_id})]
    actions += [getattr(TaskModel, name).add(delta) for name, delta in counters.items() if delta]
    return actions


def lease_path(user_id: int) -> Path:
    return Path(["locks", str(user_id)])


def settle_labeled(item: TaskModel) -> int:
    """Make `is_labeled` agree with the counts `item` was just updated to; return the change (-1, 0, 1).

    The flip is conditional on the counts *as stored*, so of several concurrent writers exactly the one
    whose view is current flips it, and `finished_task_number` moves once. Labeling takes the task out
    of the queue indexes; unlabeling puts it back.
    """
    labeled = int(item.labeling_count or 0) >= int(item.overlap or 1)
    if labeled == bool(item.is_labeled):
        return 0
    if labeled:
        actions: list[Action] = [TaskModel.is_labeled.set(True), TaskModel.queue_project.remove()]
        # `==` on a PynamoDB attribute builds a condition expression; `not` would test the attribute object.
        was_unlabeled = TaskModel.is_labeled == False  # noqa: E712
        condition = was_unlabeled & (TaskModel.labeling_count >= TaskModel.overlap)
    else:
        actions = [TaskModel.is_labeled.set(False), TaskModel.queue_project.set(int(item.project_id))]
        was_labeled = TaskModel.is_labeled == True  # noqa: E712 -- a condition expression, as above
        condition = was_labeled & (TaskModel.labeling_count < TaskModel.overlap)
    try:
        TaskModel(int(item.id)).update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return 0
        raise
    return 1 if labeled else -1
