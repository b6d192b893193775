"""Predictions from a project's ML backend: the Data Manager's "Retrieve predictions", prediction when a
task is opened (`GET /api/tasks/{id}`, the label stream), and which model version's predictions
annotators see.

Retrieval follows Label Studio (`ml/models.py` `predict_tasks`) with two changes for size: the backend is
set up once, then the selection goes in batches of `LABELSTACK_ML_BATCH_SIZE` tasks (not one call for
everything, not one per task), and a selection over `LABELSTACK_ML_SYNC_PREDICT_LIMIT` tasks runs as a
background job whose progress the client polls. Tasks that already have a prediction of the backend's
current model version are skipped. A batch is checked whole before anything of it is stored: a backend
that is down, too slow or answers garbage leaves that batch unstored and the backend in state ER with the
reason, and labeling goes on. The answer says why fewer predictions came back than tasks were selected
(the backend failed, the request's time ran out, the model returned none, the tasks had them already).

A retrieval the API request waits on keeps to the request's budget (functions/ml/budget.py): a hanging
backend ends it after the backend's timeout, and all of its calls together stay under `ml_api_timeout`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from functions.domain.errors import Conflict, NotFound
from functions.domain.label_stream import uncertainty
from functions.domain.ls_json import iso
from functions.domain.ml_backend import CONNECTED, ERROR, MLBackend, describe_target, short_error
from functions.domain.records import Prediction, Project, Task, User, utcnow
from functions.ml import budget
from functions.ml.budget import Budget
from functions.ml.client import client_for
from functions.ml.protocol import MLClient
from functions.ml.responses import BackendError, PredictionDraft, parse_predictions
from functions.services import access, jobs
from functions.services.ml_backends import backend_tasks, record_failure, record_setup, record_success
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
    sent: int = 0  # tasks sent to the backend
    abstained: int = 0  # tasks sent that the model answered no prediction for
    unsent: int = 0  # tasks not sent: the request's time ran out


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
        reason = "the project has no ML backend; connect one at /api/ml"
        return {"processed_items": 0, "detail": f"Retrieved 0 predictions: {reason}", "error": reason}
    if len(tasks) > get_settings().ml_sync_predict_limit:
        return _start_job(backend, [t.id for t in tasks])
    outcome = predict_tasks(project, backend, tasks, limit=budget.for_request(backend))
    body: dict[str, Any] = {
        "processed_items": outcome.predicted,
        "detail": detail(outcome, backend),
        "skipped_items": outcome.skipped,
    }
    if outcome.error:
        body["error"] = outcome.error
    return body


def detail(outcome: Outcome, backend: MLBackend) -> str:
    """The answer's detail: how many predictions were retrieved, and why not more when tasks got none."""
    reasons = []
    if outcome.error:
        reasons.append(f"the ML backend failed: {outcome.error}")
    if outcome.unsent:
        reasons.append(
            f"{outcome.unsent} tasks were not sent: the backend calls of one request may take "
            f"{get_settings().ml_api_timeout:g} s in all; retrieve them again, or select more than "
            f"{get_settings().ml_sync_predict_limit} tasks to predict them in the background"
        )
    if outcome.abstained:
        model = "the model" if backend.kind == "http" else f"the model of {describe_target(backend)}"
        hint = (
            "an untrained model returns none: train it from this project"
            if backend.kind == "http"
            else "an untrained model returns none; an endpoint serves the model of the project that "
            "owns it, trained by that project's training runs"
        )
        reasons.append(
            f"{model} returned no predictions for {outcome.abstained} of the {outcome.sent} tasks sent "
            f"({hint})"
        )
    if outcome.skipped:
        reasons.append(
            f"{outcome.skipped} tasks already had a prediction of model version {backend.model_version}"
        )
    if not outcome.tasks and not outcome.unsent and not outcome.error:
        reasons.append("no tasks were selected")
    text = f"Retrieved {outcome.predictions} predictions"
    return f"{text}: {'; '.join(reasons)}" if reasons else text


def predict_tasks(
    project: Project,
    backend: MLBackend,
    tasks: Iterable[Task],
    *,
    limit: Budget | None = None,
    progress: Callable[[Outcome], None] | None = None,
) -> Outcome:
    """Predict `tasks` in batches and store what fits the label config; the first failure stops it, with
    the backend in ER. `limit` is the time budget (a background job's by default)."""
    limit = limit or budget.for_job(backend)
    outcome = Outcome()
    client = client_for(backend)
    try:
        version = client.setup(project)
    except BackendError as exc:
        outcome.error = str(exc)
        record_failure(backend, outcome.error, predicting=False)
        return outcome
    backend = record_setup(backend, version)
    current = backend.model_version
    config = config_of(project)
    answered = False
    for batch in _batches(tasks, get_settings().ml_batch_size):
        if limit.spent():
            outcome.unsent += len(batch)  # counted, not sent
            continue
        outcome.tasks += len(batch)
        existing = prediction_store.batch_get([i for t in batch for i in t.prediction_ids])
        done = {p.task_id for p in existing if current and p.model_version == current}
        todo = [t for t in batch if t.id not in done]
        outcome.skipped += len(batch) - len(todo)
        if todo:
            try:
                sent = backend_tasks(todo, [p for p in existing if p.task_id not in done])
                outcome.sent += len(sent)
                results, answered_version = _predict(client, project, sent, outcome, limit)
                drafts = parse_predictions(results, len(todo), config)
            except BackendError as exc:
                outcome.error = str(exc)
                record_failure(backend, outcome.error)
                break
            if not answered:
                backend, answered = record_success(backend), True
            outcome.abstained += sum(1 for found in drafts if not found)
            stored = store(project, backend, list(zip(todo, drafts, strict=True)), answered_version)
            outcome.predicted += len({p.task_id for p in stored})
            outcome.predictions += len(stored)
        if progress:
            progress(outcome)
    return outcome


def _predict(
    client: MLClient, project: Project, sent: list[dict], outcome: Outcome, limit: Budget
) -> tuple[list, str | None]:
    outcome.calls += 1
    results, version = client.predict(project, sent, timeout=limit.call_timeout())
    if len(results) == 1 and len(sent) > 1:
        # Label Studio's rule: one result for many tasks means a backend without batch support.
        results = []
        for task in sent:
            if limit.spent():
                raise BackendError(
                    f"the backend answers one task per call, and the time for this request ran out after "
                    f"{len(results)} of {len(sent)} tasks"
                )
            outcome.calls += 1
            one, version = client.predict(project, [task], timeout=limit.call_timeout())
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
        job.update(
            status="failed" if outcome.error else "completed",
            error=outcome.error,
            detail=detail(outcome, backend_store.get(backend_id)),
        )
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


# At most one prediction on load per backend at a time in this process: a slow backend holds one
# request's thread, not one per annotator opening a task.
_loading: set[int] = set()
_loading_lock = threading.Lock()


def _claim_load(backend_id: int) -> bool:
    with _loading_lock:
        if backend_id in _loading:
            return False
        _loading.add(backend_id)
        return True


def _release_load(backend_id: int) -> None:
    with _loading_lock:
        _loading.discard(backend_id)


def _worth_asking(backend: MLBackend) -> bool:
    """A connected backend; one whose predictions failed only once `ml_retry_after` has passed (a failed
    backend is not waited on for every task an annotator opens)."""
    if backend.state == CONNECTED:
        return True
    retry_after = get_settings().ml_retry_after
    return (
        backend.state == ERROR
        and backend.predict_failed
        and (utcnow() - backend.updated_at).total_seconds() >= retry_after
    )


def predict_on_open(project: Project, task: Task, predictions: list[Prediction]) -> list[Prediction]:
    """`GET /api/tasks/{id}` (Label Studio's `tasks/api.py`): when the project shows predictions (the
    default) or retrieves them automatically, a task without any gets one from the project's first ML
    backend. The task's predictions, the new one among them. Never fails the read."""
    if predictions or not (project.show_collab_predictions or project.evaluate_predictions_automatically):
        return predictions
    backend = project_backend(project.id)
    if backend is None:
        return predictions
    return predictions + _predict_one(project, backend, task, predictions)


def prelabel(project: Project, task: Task, predictions: list[Prediction]) -> list[Prediction]:
    """The predictions the label stream (`/next`) shows with a task, as Label Studio chooses them
    (`Task.get_predictions_for_prelabeling`): none unless the project shows predictions; when its
    `model_version` is the title of one of its ML backends (what connecting a backend sets, so the
    default), that backend is asked for the task unless the task has a prediction of its current version,
    and what it answered (or that version's) is shown; otherwise the predictions of the chosen version
    (all of them when none is chosen). Never fails the read."""
    if not project.show_collab_predictions:
        return []
    backends = backend_store.list_for_project(project.id) if may_ask_a_backend(project) else []
    live = next((b for b in backends if b.title == project.model_version), None)
    if live is None:
        return shown_predictions(project, predictions)
    fresh = _predict_one(project, live, task, predictions)
    return fresh or [p for p in predictions if p.model_version == live.model_version]


def may_ask_a_backend(project: Project) -> bool:
    """Whether `prelabel` may call one of the project's ML backends (so may wait on the network): only
    while it shows predictions and its model version may name a backend."""
    return project.show_collab_predictions and bool(project.model_version)


def _predict_one(
    project: Project, backend: MLBackend, task: Task, predictions: list[Prediction]
) -> list[Prediction]:
    """Ask `backend` for `task`'s prediction unless the task has one of its current version: one call with
    a short timeout, skipped while another request asks the same backend or while the backend's last
    prediction failed recently. The predictions stored ([] when none). Never raises."""
    try:
        if not _worth_asking(backend) or any(p.model_version == backend.model_version for p in predictions):
            return []
        if not _claim_load(backend.id):
            return []  # another request is asking it now
        try:
            timeout = min(get_settings().ml_task_load_timeout, budget.per_call(backend))
            results, answered_version = client_for(backend).predict(
                project, backend_tasks([task], predictions), timeout=timeout
            )
            drafts = parse_predictions(results, 1, config_of(project))[0]
        finally:
            _release_load(backend.id)
        stored = store(project, backend, [(task, drafts)], answered_version)
        # A model that retrained since its version was last read (on the events its webhook carries)
        # answers with its new version: the backend follows it (as /setup would say), so the task's
        # prediction of that version counts as current the next time it is opened.
        answered = {p.model_version for p in stored}
        follows = backend.kind == "http" and backend.auto_update and len(answered) == 1
        record_success(backend, answered.pop() if follows else None)
    except BackendError as exc:
        record_failure(backend, str(exc))
        return []
    except Exception:  # the annotator must get the task whatever the backend did
        logger.exception("prediction on load failed for task %s", task.id)
        return []
    task.prediction_ids = sorted([*task.prediction_ids, *(p.id for p in stored)])
    task.total_predictions += len(stored)
    return stored


def shown_predictions(project: Project, predictions: list[Prediction]) -> list[Prediction]:
    """The predictions of the project's chosen model version (a version string, not a backend's title:
    see `prelabel`); all of them when none is chosen."""
    selected = project.model_version
    return [p for p in predictions if p.model_version == selected] if selected else predictions
