"""Predictions: model output stored per task with its model version and score. Every write here moves
the project's counts of predictions by model version with it (store/model_versions.py)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from pynamodb.expressions.update import Action

from functions.domain.errors import NotFound
from functions.domain.records import Prediction
from functions.settings import get_settings
from functions.store import blobs, field_updates, ids, model_versions, projects, tasks
from functions.store.atomic import atomic
from functions.store.child_writes import write_child
from functions.store.errors import conflict_on_condition
from functions.store.models import PredictionModel, TaskModel


def _result_key(prediction_id: int) -> str:
    return f"predictions/{prediction_id}/result.json"


def _to_prediction(item: PredictionModel | SimpleNamespace) -> Prediction:
    return Prediction(
        id=int(item.id),
        task_id=int(item.task_id),
        project_id=int(item.project_id),
        result=blobs.unpack(item.result, item.result_ref, default=[]),
        score=float(item.score) if item.score is not None else None,
        model_version=item.model_version,
        model=int(item.model) if item.model is not None else None,
        cluster=int(item.cluster) if item.cluster is not None else None,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def to_item(p: Prediction) -> PredictionModel:
    result, result_ref = blobs.pack(p.result, _result_key(p.id))
    return PredictionModel(
        p.id,
        task_id=p.task_id,
        project_id=p.project_id,
        result=result,
        result_ref=result_ref,
        score=p.score,
        model_version=p.model_version,
        model=p.model,
        cluster=p.cluster,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def new_ids(count: int) -> int:
    return ids.reserve("prediction", count)


def put_many(predictions: Iterable[Prediction]) -> int:
    written: list[Prediction] = []
    with PredictionModel.batch_write() as batch:
        for prediction in predictions:
            batch.save(to_item(prediction))
            written.append(prediction)
    _count(written, 1)
    return len(written)


def _count(predictions: Iterable[Prediction], sign: int) -> None:
    """Move the projects' counts by version by `sign` for each of `predictions`."""
    by_project: dict[int, Counter[str]] = {}
    latest: dict[int, Any] = {}
    for p in predictions:
        by_project.setdefault(p.project_id, Counter())[p.model_version] += sign
        latest[p.project_id] = max(latest.get(p.project_id, p.created_at), p.created_at)
    for project_id, deltas in by_project.items():
        model_versions.add(project_id, dict(deltas), latest[project_id])


def get(prediction_id: int) -> Prediction:
    try:
        return _to_prediction(PredictionModel.get_plain(prediction_id))
    except PredictionModel.DoesNotExist:
        raise NotFound("No Prediction matches the given query.") from None


def batch_get(prediction_ids: list[int]) -> list[Prediction]:
    if not prediction_ids:
        return []
    found = {int(item.id): item for item in PredictionModel.batch_get_plain(prediction_ids)}
    return [_to_prediction(found[i]) for i in prediction_ids if i in found]


def _score_actions(scores: dict[str, float] | None, uncertainty: float | None) -> list:
    # Two predictions landing at once may leave the key one write behind; the order stays roughly right.
    return [] if scores is None else tasks.score_actions(scores, uncertainty)


@atomic()
def insert(
    prediction: Prediction, *, scores: dict[str, float] | None = None, uncertainty: float | None = None
) -> Prediction:
    """Store a prediction; `scores`/`uncertainty` are the task's values with it (None: unchanged)."""
    write_child(
        save=to_item(prediction),
        save_condition=PredictionModel.id.does_not_exist(),
        kind="prediction",
        child_id=prediction.id,
        added=True,
        task_id=prediction.task_id,
        task_counters={"total_predictions": 1},
        task_extra=_score_actions(scores, uncertainty),
        task_condition=~TaskModel.prediction_ids.contains(prediction.id),
    )
    projects.add_counters(prediction.project_id, total_predictions_number=1)
    _count([prediction], 1)
    return prediction


@atomic()
def remove(
    prediction: Prediction, *, scores: dict[str, float] | None = None, uncertainty: float | None = None
) -> None:
    write_child(
        delete=PredictionModel(prediction.id),
        kind="prediction",
        child_id=prediction.id,
        added=False,
        task_id=prediction.task_id,
        task_counters={"total_predictions": -1},
        task_extra=_score_actions(scores, uncertainty),
        task_condition=TaskModel.prediction_ids.contains(prediction.id),
    )
    projects.add_counters(prediction.project_id, total_predictions_number=-1)
    _count([prediction], -1)


CHANGEABLE = ("result", "score", "model_version", "updated_at")


def update_fields(prediction_id: int, changes: dict[str, Any]) -> tuple[Prediction, Prediction]:
    """Set the fields in `changes` (of CHANGEABLE), and only those, in one UpdateItem; return the
    prediction as it was just before the write and as the write left it. Concurrent changes of other
    fields are kept (see field_updates.py); NotFound when the prediction is gone."""
    actions = field_updates.child_actions(
        PredictionModel, changes, CHANGEABLE, _result_key(prediction_id), "a prediction"
    )
    old = field_updates.update(
        PredictionModel,
        prediction_id,
        actions,
        returning="old",
        missing="No Prediction matches the given query.",
    )
    before = _to_prediction(old)
    after = dataclasses.replace(before, **changes)
    if after.model_version != before.model_version:
        _count([before], -1)
        _count([after], 1)
    return before, after


def delete_many(prediction_ids: Iterable[int], *, counted: bool = True) -> None:
    """Delete predictions by id. Their versions are read first to move the counts, unless `counted` is
    False (the project goes with its counts: store/model_versions.py `delete_for_project`)."""
    wanted = list(prediction_ids)
    gone: list[Prediction] = []
    if counted:
        for start in range(0, len(wanted), 100):
            for item in PredictionModel.batch_get(
                wanted[start : start + 100],
                attributes_to_get=["id", "project_id", "model_version", "created_at"],
            ):
                gone.append(
                    Prediction(
                        id=int(item.id),
                        task_id=0,
                        project_id=int(item.project_id),
                        result=[],
                        model_version=item.model_version,
                        created_at=item.created_at,
                    )
                )
    with PredictionModel.batch_write() as batch:
        for prediction_id in wanted:
            batch.delete(PredictionModel(prediction_id))
    _count(gone, -1)


@atomic()
def _update_unread(task_id: int, actions: list[Action], condition) -> None:
    """UpdateItem without the item back. PynamoDB's `Model.update` asks for ALL_NEW and parses the whole
    task, its data included, into a model nobody reads: in a batch of predictions that was most of the
    store's time, and on DynamoDB every task's bytes cross the wire once more."""
    hash_key, _ = TaskModel._serialize_keys(task_id)
    TaskModel._get_connection().update_item(
        hash_key, actions=actions, condition=condition, return_values="NONE"
    )


def insert_batch(
    project_id: int,
    predictions: list[Prediction],
    task_scores: dict[int, tuple[dict[str, float], float | None]],
) -> None:
    """Store new predictions of many tasks at once (an ML backend's batch): BatchWriteItem for the
    predictions, then one UpdateItem per task (its ids, counter and scores; DynamoDB has no batch update)
    and one project counter update. `task_scores`: per task, its scores and uncertainty with them.

    All or nothing: if any write fails, what was written is taken back before the error goes on.
    """
    from concurrent.futures import ThreadPoolExecutor

    by_task: dict[int, list[int]] = {}
    for p in predictions:
        by_task.setdefault(p.task_id, []).append(p.id)
    put_many(predictions)
    done: list[int] = []

    def update_task(task_id: int) -> None:
        actions: list[Action] = [
            TaskModel.prediction_ids.add(set(by_task[task_id])),
            TaskModel.total_predictions.add(len(by_task[task_id])),
        ]
        if task_id in task_scores:
            actions += tasks.score_actions(*task_scores[task_id])
        with conflict_on_condition("A task was deleted while its predictions were stored."):
            _update_unread(task_id, actions, TaskModel.id.exists())
        done.append(task_id)

    try:
        if get_settings().store_engine == "sqlite":
            # One transaction (`atomic`) on this thread: other threads would wait for its write lock.
            for task_id in by_task:
                update_task(task_id)
        else:
            # Independent items: a few at a time, so a batch costs about one round trip per few tasks.
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(update_task, by_task))
        projects.add_counters(project_id, total_predictions_number=len(predictions))
    except Exception:
        for task_id in done:
            TaskModel(task_id).update(
                actions=[
                    TaskModel.prediction_ids.delete(set(by_task[task_id])),
                    TaskModel.total_predictions.add(-len(by_task[task_id])),
                ]
            )
        delete_many(p.id for p in predictions)
        raise
