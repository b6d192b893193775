"""Predictions from a project's ML backend: the Data Manager's "Retrieve predictions", prediction when a
task is opened, and which model version's predictions annotators see.

Retrieval follows Label Studio (`ml/models.py` `predict_tasks`) with two changes for size: the backend is
set up once, then the selection goes in batches of `LABELSTACK_ML_BATCH_SIZE` tasks (not one call for
everything, not one per task), and a selection over `LABELSTACK_ML_SYNC_PREDICT_LIMIT` tasks runs as a
background job whose progress the client polls. Tasks that already have a prediction of the backend's
current model version are skipped. A batch is checked whole before anything of it is stored: a backend
that is down, too slow or answers garbage leaves that batch unstored and the backend in state ER with the
reason, and labeling goes on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from functions.domain.errors import Conflict, NotFound, ValidationFailed
from functions.domain.label_stream import uncertainty
from functions.domain.ls_json import iso
from functions.domain.ml_backend import CONNECTED, MLBackend, short_error
from functions.domain.records import Prediction, Project, Task, User, utcnow
from functions.ml.client import client_for
from functions.ml.protocol import MLClient
from functions.ml.responses import BackendError, PredictionDraft, parse_predictions
from functions.services import access, jobs
from functions.services.ml_backends import backend_tasks, record_failure
from functions.services.projects import config_of
from functions.settings import get_settings
from functions.store import blobs, ids
from functions.store import ml_backends as backend_store
from functions.store import predictions as prediction_store
from functions.store import projects as project_store
from functions.store import tasks as task_store

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    tasks: int = 0  # tasks looked at
    predicted: int = 0  # tasks that got predictions
    predictions: int = 0
    skipped: int = 0  # already had a prediction of the current version
    calls: int = 0  # /predict calls (InvokeEndpoint for SageMaker)
    error: str | None = None


def project_backend(project_id: int) -> MLBackend | None:
    """The backend batch predictions use: the project's first, as in Label Studio."""
    found = backend_store.list_for_project(project_id)
    return found[0] if found else None


def _batches(tasks: Iterable[Task], size: int) -> Iterator[list[Task]]:
    batch: list[Task] = []
    for task in tasks:
        batch.append(task)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def retrieve(user: User, project: Project, tasks: list[Task]) -> dict:
    """The Data Manager action `retrieve_tasks_predictions` over the selected tasks."""
    backend = project_backend(project.id)
    if backend is None:
        raise ValidationFailed.field("project", "The project has no ML backend; connect one at /api/ml.")
    if len(tasks) > get_settings().ml_sync_predict_limit:
        return _start_job(backend, [t.id for t in tasks])
    outcome = predict_tasks(project, backend, tasks)
    body: dict[str, Any] = {
        "processed_items": outcome.predicted,
        "detail": f"Retrieved {outcome.predictions} predictions",
        "skipped_items": outcome.skipped,
    }
    if outcome.error:
        body["detail"] += f"; the ML backend failed: {outcome.error}"
        body["error"] = outcome.error
    return body


def predict_tasks(
    project: Project,
    backend: MLBackend,
    tasks: Iterable[Task],
    *,
    progress: Callable[[Outcome], None] | None = None,
) -> Outcome:
    outcome = Outcome()
    client = client_for(backend)
    try:
        version = client.setup(project)
    except BackendError as exc:
        outcome.error = str(exc)
        record_failure(backend, outcome.error)
        return outcome
    if (version and backend.auto_update and version != backend.model_version) or backend.state != CONNECTED:
        backend_store.set_status(
            backend, CONNECTED, None, version if version and backend.auto_update else None
        )
    current = backend.model_version
    config = config_of(project)
    for batch in _batches(tasks, get_settings().ml_batch_size):
        outcome.tasks += len(batch)
        existing = prediction_store.batch_get([i for t in batch for i in t.prediction_ids])
        done = {p.task_id for p in existing if current and p.model_version == current}
        todo = [t for t in batch if t.id not in done]
        outcome.skipped += len(batch) - len(todo)
        if todo:
            try:
                sent = backend_tasks(todo, [p for p in existing if p.task_id not in done])
                results, answered_version = _predict(client, project, sent, outcome)
                drafts = parse_predictions(results, len(todo), config)
            except BackendError as exc:
                outcome.error = str(exc)
                record_failure(backend, outcome.error)
                break
            stored = store(project, backend, list(zip(todo, drafts, strict=True)), answered_version)
            outcome.predicted += len({p.task_id for p in stored})
            outcome.predictions += len(stored)
        if progress:
            progress(outcome)
    return outcome


def _predict(
    client: MLClient, project: Project, sent: list[dict], outcome: Outcome, timeout: float | None = None
) -> tuple[list, str | None]:
    outcome.calls += 1
    results, version = client.predict(project, sent, timeout=timeout)
    if len(results) == 1 and len(sent) > 1:
        # Label Studio's rule: one result for many tasks means a backend without batch support.
        results = []
        for task in sent:
            outcome.calls += 1
            one, version = client.predict(project, [task], timeout=timeout)
            if len(one) != 1:
                raise BackendError(f"the backend answered {len(one)} results for 1 task")
            results.extend(one)
    return results, version


def store(
    project: Project,
    backend: MLBackend,
    items: list[tuple[Task, list[PredictionDraft]]],
    answered_version: str | None,
) -> list[Prediction]:
    """Write one batch's predictions with their model version, score and backend id."""
    count = sum(len(drafts) for _, drafts in items)
    if not count:
        return []
    next_id = prediction_store.new_ids(count)
    now = utcnow()
    predictions: list[Prediction] = []
    task_scores: dict[int, tuple[dict[str, float], float | None]] = {}
    for task, drafts in items:
        scores = dict(task.prediction_scores)
        for draft in drafts:
            # A SageMaker endpoint's version is its deployment; an http backend's is what it says.
            version = (
                backend.model_version
                if backend.kind == "sagemaker"
                else (draft.model_version or answered_version or backend.model_version or "undefined")
            )
            predictions.append(
                Prediction(
                    id=next_id,
                    task_id=task.id,
                    project_id=project.id,
                    result=draft.result,
                    score=draft.score,
                    model_version=version,
                    model=backend.id,
                    created_at=now,
                    updated_at=now,
                )
            )
            next_id += 1
            if draft.score is not None:
                scores[version] = draft.score
        if scores != task.prediction_scores:
            task_scores[task.id] = (scores, uncertainty(scores, project.model_version))
    prediction_store.insert_batch(project.id, predictions, task_scores)
    return predictions


# Background retrieval for large selections.


def _selection_key(job_id: int) -> str:
    return f"ml-jobs/{job_id}/tasks.json"


def _start_job(backend: MLBackend, task_ids: list[int]) -> dict:
    job_id = ids.reserve("ml_job")
    job = {
        "id": job_id,
        "ml_backend": backend.id,
        "status": "running",
        "total": len(task_ids),
        "processed": 0,
        "predictions": 0,
        "skipped": 0,
        "calls": 0,
        "error": None,
        "created_at": iso(utcnow()),
        "finished_at": None,
    }
    blobs.put_bytes(_selection_key(job_id), json.dumps(task_ids).encode(), "application/json")
    if not backend_store.start_job(backend.id, job):
        blobs.delete(_selection_key(job_id))
        raise Conflict("A prediction job is already running for this ML backend; wait for it to finish.")
    jobs.submit("retrieve_predictions", {"backend_id": backend.id, "job_id": job_id})
    return {
        "processed_items": 0,
        "detail": f"Retrieving predictions for {len(task_ids)} tasks in the background",
        "job": job_id,
        "ml_backend": backend.id,
    }


def run_job(backend_id: int, job_id: int) -> None:
    backend = backend_store.get(backend_id)
    job = dict(backend.job)
    if job.get("id") != job_id or job.get("status") != "running":
        return  # a retried invocation of a job that already ran
    try:
        project = project_store.get(backend.project_id)
        task_ids = json.loads(blobs.get_bytes(_selection_key(job_id)))

        def tasks() -> Iterator[Task]:
            for start in range(0, len(task_ids), 100):
                yield from task_store.batch_get(task_ids[start : start + 100])

        def progress(outcome: Outcome) -> None:
            job.update(
                processed=outcome.tasks,
                predictions=outcome.predictions,
                skipped=outcome.skipped,
                calls=outcome.calls,
            )
            backend_store.set_job(backend_id, job)

        outcome = predict_tasks(project, backend, tasks(), progress=progress)
        progress(outcome)
        job.update(status="failed" if outcome.error else "completed", error=outcome.error)
    except Exception as exc:
        logger.exception("prediction job %s failed", job_id)
        job.update(status="failed", error=short_error(f"{type(exc).__name__}: {exc}"))
    job["finished_at"] = iso(utcnow())
    backend_store.set_job(backend_id, job)
    blobs.delete(_selection_key(job_id))


def job_status(user: User, backend_id: int, job_id: int) -> dict:
    backend = backend_store.get(backend_id)
    try:
        access.project_for(user, backend.project_id)
    except NotFound:
        raise NotFound(backend_store.NOT_FOUND) from None
    if backend.job.get("id") != job_id:
        raise NotFound("No prediction job matches the given query.")
    return backend.job


# Reading tasks: prediction on load, and which predictions annotators see.


def predict_on_load(project: Project, task: Task, predictions: list[Prediction]) -> list[Prediction]:
    """With `evaluate_predictions_automatically`, a task opened without a prediction of the backend's
    current version gets one: one call with a short timeout. Never fails the read."""
    if not project.evaluate_predictions_automatically:
        return predictions
    backend = None
    try:
        backend = project_backend(project.id)
        if backend is None or backend.state != CONNECTED:
            return predictions  # a failed backend is retried on its next refresh, not on every task read
        if any(p.model_version == backend.model_version for p in predictions):
            return predictions
        results, answered_version = client_for(backend).predict(
            project, backend_tasks([task], predictions), timeout=get_settings().ml_task_load_timeout
        )
        drafts = parse_predictions(results, 1, config_of(project))[0]
        stored = store(project, backend, [(task, drafts)], answered_version)
    except BackendError as exc:
        if backend is not None:
            record_failure(backend, str(exc))
        return predictions
    except Exception:  # the annotator must get the task whatever the backend did
        logger.exception("prediction on load failed for task %s", task.id)
        return predictions
    task.prediction_ids = sorted([*task.prediction_ids, *(p.id for p in stored)])
    task.total_predictions += len(stored)
    return predictions + stored


def shown_predictions(project: Project, predictions: list[Prediction]) -> list[Prediction]:
    """The predictions the label stream shows with a task: those of the project's selected model
    version, which is a version string or (Label Studio) the title of one of its ML backends, meaning
    that backend's current version. No selection: all of them."""
    selected = project.model_version
    if not selected or not predictions:
        return predictions
    chosen = [p for p in predictions if p.model_version == selected]
    if chosen:
        return chosen
    for backend in backend_store.list_for_project(project.id):
        if backend.title == selected:
            return [p for p in predictions if p.model_version == backend.model_version]
    return []
