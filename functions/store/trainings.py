"""Training runs, listed per backend newest first, and the backend's one-run-at-a-time claim."""

from __future__ import annotations

import json

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from functions.domain.errors import NotFound
from functions.domain.records import utcnow
from functions.domain.training import Training
from functions.store import ids
from functions.store.models import MLBackendModel, TrainingModel

NOT_FOUND = "No training run matches the given query."


def _to_training(item: TrainingModel) -> Training:
    return Training(
        id=int(item.id),
        backend_id=int(item.backend_id),
        project_id=int(item.project_id),
        kind=item.kind,
        trigger=item.trigger,
        annotations=int(item.annotations or 0),
        status=item.status,
        started_at=item.started_at,
        finished_at=item.finished_at,
        model_version=item.model_version,
        metrics=json.loads(item.metrics or "{}"),
        error=item.error,
        execution=item.execution,
    )


def new_id() -> int:
    return ids.reserve("training")


def claim(backend_id: int, training_id: int) -> bool:
    """Mark the backend as training in run `training_id` unless a run is in progress; False if one is."""
    try:
        MLBackendModel(backend_id).update(
            actions=[MLBackendModel.training_run.set(training_id)],
            condition=MLBackendModel.id.exists() & MLBackendModel.training_run.does_not_exist(),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def release(backend_id: int, training_id: int, trained_annotations: int | None) -> None:
    """End run `training_id`'s claim; a successful run also moves the backend's trained-on count."""
    actions: list[Action] = [MLBackendModel.training_run.remove()]
    if trained_annotations is not None:
        actions.append(MLBackendModel.trained_annotations.set(trained_annotations))
    try:
        MLBackendModel(backend_id).update(
            actions=actions, condition=MLBackendModel.training_run == training_id
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise  # otherwise the backend is gone, or the claim was already released: nothing to end


def trained_annotations(backend_id: int) -> tuple[int, int | None]:
    """(the count the last successful run trained on, the run in progress or None)."""
    item = MLBackendModel.get(backend_id, attributes_to_get=["trained_annotations", "training_run"])
    running = item.training_run
    return int(item.trained_annotations or 0), int(running) if running is not None else None


def create(training: Training) -> Training:
    TrainingModel(
        training.id,
        backend_id=training.backend_id,
        project_id=training.project_id,
        kind=training.kind,
        trigger=training.trigger,
        annotations=training.annotations,
        status=training.status,
        started_at=training.started_at,
    ).save()
    return training


def get(training_id: int) -> Training:
    try:
        return _to_training(TrainingModel.get(training_id, consistent_read=True))
    except TrainingModel.DoesNotExist:
        raise NotFound(NOT_FOUND) from None


def list_for_backend(backend_id: int, limit: int = 100) -> list[Training]:
    return [
        _to_training(item)
        for item in TrainingModel.backend_index.query(backend_id, scan_index_forward=False, limit=limit)
    ]


def set_execution(training_id: int, execution: str) -> None:
    TrainingModel(training_id).update(actions=[TrainingModel.execution.set(execution)])


def finish(training: Training) -> Training:
    training.finished_at = utcnow()
    TrainingModel(training.id).update(
        actions=[
            TrainingModel.status.set(training.status),
            TrainingModel.finished_at.set(training.finished_at),
            TrainingModel.metrics.set(json.dumps(training.metrics)),
            *([TrainingModel.model_version.set(training.model_version)] if training.model_version else []),
            *([TrainingModel.error.set(training.error)] if training.error else []),
        ]
    )
    return training
