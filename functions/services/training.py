"""Training an ML backend: when a run starts, the steps it goes through, and what it records.

A run starts on annotations (the annotations stream calls `on_annotation_change` for each one created
or updated: functions/domain/training.py says when a backend is due) or by hand (`POST
/api/ml/{id}/train`). One run at a time per backend: starting claims the backend with a conditional
write, and the run's end releases it.

The run itself is a sequence of steps. In AWS the training state machine (infra/aws/training.py) runs them:
its Lambda steps are the functions below (through functions/handlers/training.py) and its SageMaker steps
are service integrations. Locally a runner does the same in order (infra/local_training.py), registered
with `use_local_runner`. Either way:

    prepare_dataset -> http:      START_TRAINING to the backend's /webhook (Label Studio's protocol)
                    -> sagemaker: training job -> model -> endpoint config (`deploy_config`) -> update
                                  endpoint -> wait until InService
                    -> record_success (new model version on the backend, and on the project if it follows
                       the backend's version) | record_failure (the reason on the backend, state ER)

Only a backend whose project owns its SageMaker endpoint trains (functions/domain/ml_backend.py): a
read-only backend is refused by hand (403), never started on annotations, and `prepare_dataset` checks
ownership again, so a run that was started before the endpoint changed hands fails before it trains.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from functions.domain.errors import Conflict, PermissionDenied
from functions.domain.ls_json import iso, project_hook_json
from functions.domain.ml_backend import (
    CONNECTED,
    ERROR,
    TRAINING,
    MLBackend,
    owns_endpoint,
    read_only_reason,
)
from functions.domain.records import Project, User
from functions.domain.training import (
    COMPLETED,
    FAILED,
    Training,
    due,
    execution_name,
    short_error,
    training_json,
)
from functions.ml.client import client_for
from functions.services.exporting import export_tasks
from functions.services.ml_backends import backend_for, endpoint_owner
from functions.services.projects import config_of, follow_model_version
from functions.settings import get_settings
from functions.store import blobs, training_runner
from functions.store import ml_backends as backend_store
from functions.store import projects as project_store
from functions.store import sagemaker as sagemaker_store
from functions.store import trainings as training_store

if TYPE_CHECKING:  # events sit above services: only the type is needed here
    from functions.events.annotation_changes import AnnotationChange

logger = logging.getLogger(__name__)

DATASET_PREFIX = "training"


class ReadOnlyBackend(PermissionDenied):
    """The backend's project does not own its SageMaker endpoint: it may predict, not train."""


def use_local_runner(runner: Callable[[dict], None] | None) -> None:
    """The local stack's runner for started runs (there is no Step Functions locally)."""
    training_runner.use_local_runner(runner)


def check_may_train(backend: MLBackend) -> None:
    """Raise ReadOnlyBackend unless the backend's project owns what training would replace."""
    owner = endpoint_owner(backend)
    if not owns_endpoint(backend, owner):
        raise ReadOnlyBackend(read_only_reason(backend, owner))


# Starting a run.


def on_annotation_change(change: AnnotationChange) -> None:
    """The annotations-stream subscriber: start a run for each backend that is due one."""
    if (
        change.action == "deleted"
        or not change.new
        or change.new.get("was_cancelled")
        or change.new.get("ground_truth")
    ):
        return
    project = project_store.get(change.project_id)
    for backend in backend_store.list_for_project(project.id):
        if backend.read_only:
            continue
        trained, running = training_store.trained_annotations(backend.id)
        if running is None and due(project, trained, updated=change.action == "updated"):
            try:
                start(project, backend, trigger="annotations")
            except ReadOnlyBackend as exc:
                logger.info("not training ML backend %s: %s", backend.id, exc.detail)


def start_by_hand(user: User, backend_id: int) -> Training:
    backend, project = backend_for(user, backend_id, manage=True)
    training = start(project, backend, trigger="manual")
    if training is None:
        raise Conflict("A training run of this ML backend is in progress; wait for it to finish.")
    return training


def start(project: Project, backend: MLBackend, *, trigger: str) -> Training | None:
    """Start a run unless one is in progress (then None); ReadOnlyBackend if the backend may not train."""
    check_may_train(backend)
    training = Training(
        id=training_store.new_id(),
        backend_id=backend.id,
        project_id=project.id,
        kind=backend.kind,
        trigger=trigger,
        annotations=project.total_annotations_number,
    )
    if not training_store.claim(backend.id, training.id):
        return None
    training_store.create(training)
    backend_store.set_status(backend, TRAINING, None)
    try:
        training.execution = training_runner.launch(execution_name(training), {"training_id": training.id})
    except Exception as exc:  # the run never started: end it now, with the reason where users look
        record_failure(training.id, f"could not start the training run: {exc}")
        raise
    training_store.set_execution(training.id, training.execution)
    return training


def list_trainings(user: User, backend_id: int) -> list[dict]:
    backend_for(user, backend_id)
    return [training_json(t, iso) for t in training_store.list_for_backend(backend_id)]


# The steps.


def _run(training_id: int) -> tuple[Training, MLBackend, Project]:
    training = training_store.get(training_id)
    return training, backend_store.get(training.backend_id), project_store.get(training.project_id)


def prepare_dataset(training_id: int) -> dict:
    """For a SageMaker backend, the project's annotated tasks as Label Studio's JSON export, written to S3
    for the training job, and the names its steps use. (An `http` backend fetches its own data, as Label
    Studio's backends do: it gets only the kind back.)"""
    training, backend, project = _run(training_id)
    check_may_train(backend)
    if backend.kind == "http":
        return {"training_id": training.id, "kind": backend.kind}
    key = f"{DATASET_PREFIX}/{backend.id}/{training.id}/tasks.json"
    tasks = list(export_tasks(project.id, all_tasks=False)())
    if not any(a for t in tasks for a in t["annotations"] if not a.get("was_cancelled")):
        raise ValueError("the project has no annotations to train on")
    blobs.put_bytes(key, json.dumps(tasks).encode(), "application/json")
    bucket = get_settings().files_bucket
    run_name = f"{backend.endpoint_name or 'ml' + str(backend.id)}-run{training.id}"[-63:].lstrip("-")
    return {
        "training_id": training.id,
        "kind": backend.kind,
        "tasks": len(tasks),
        "dataset_uri": f"s3://{bucket}/{DATASET_PREFIX}/{backend.id}/{training.id}/",
        "dataset_key": key,
        "endpoint_name": backend.endpoint_name,
        "job_name": run_name,
        "model_name": run_name,
        "endpoint_config_name": run_name,
    }


def train_http(training_id: int) -> dict:
    """Label Studio's training call: START_TRAINING with the project to the backend's /webhook; then the
    version the backend reports."""
    _, backend, project = _run(training_id)
    http = client_for(backend)
    # Only http backends train through here, and client_for gives those an HttpBackend.
    answer = http.train(project_hook_json(project, config_of(project).parsed))  # type: ignore[attr-defined]
    version = http.setup(project) or backend.model_version
    result = answer.get("result") if isinstance(answer, dict) else None
    return {"model_version": version, "metrics": result if isinstance(result, dict) else {}}


def deploy_config(training_id: int, model_name: str) -> dict:
    """The new endpoint config's variants: the endpoint's current ones, serving `model_name`."""
    _, backend, _ = _run(training_id)
    variants = sagemaker_store.production_variants(backend.endpoint_name)
    return {"variants": [{**variant, "ModelName": model_name} for variant in variants]}


def metrics_of(final_metrics: list[dict] | None) -> dict:
    """SageMaker's FinalMetricDataList as {name: value}."""
    return {m["MetricName"]: m["Value"] for m in final_metrics or [] if "MetricName" in m}


def record_success(training_id: int, model_version: str, metrics: dict | None = None) -> dict:
    training, backend, project = _run(training_id)
    training.status, training.model_version, training.metrics = COMPLETED, model_version, metrics or {}
    training_store.finish(training)
    previous = backend.model_version
    backend_store.set_status(backend, CONNECTED, None, model_version)
    if project.model_version and project.model_version == previous and model_version != previous:
        # The project showed this backend's latest version: it follows the live model.
        follow_model_version(project.id, model_version)
    training_store.release(backend.id, training.id, training.annotations)
    return training_json(training, iso)


def record_failure(training_id: int, error: str, execution: str | None = None) -> dict:
    training, backend, _ = _run(training_id)
    training.status, training.error = FAILED, short_error(error)
    training_store.finish(training)
    reason = f"Training run {training.id} failed: {error}" + (f" ({execution})" if execution else "")
    backend_store.set_status(backend, ERROR, short_error(reason), training_failed=True)
    training_store.release(backend.id, training.id, None)
    logger.warning("training run %s of ML backend %s failed: %s", training.id, backend.id, error)
    return training_json(training, iso)
