"""ML backends of a project (`/api/ml`): register, connect, edit, remove; versions, training, interactive
pre-annotation and the test prediction.

Connecting is what Label Studio does on create and edit: `/health` then `/setup` for `http` (a
DescribeEndpoint and a test invocation for `sagemaker`); a backend that fails is not saved, and the
answer is a 400 with Label Studio's message under the field to fix. Reading a backend refreshes its state
(CO, or DI when it is down, ER with the reason when it answers nonsense), as Label Studio does, except
that a failed prediction's ER stays until a prediction succeeds: /health and /setup working says nothing
about /predict. Every call an API request waits on keeps to the request's budget (functions/ml/budget.py).
Managers and admins change backends; every member may read them and use interactive pre-annotation.

A `sagemaker` backend claims its endpoint for its project when it is connected (functions/store/
ml_endpoints.py): the first project owns it, any other gets a read-only backend (prediction only). The
project's last backend on the endpoint releases it when it is deleted or moved to another endpoint.

As in Label Studio, connecting a backend makes it what annotators see (the project's `model_version`
becomes its title) when the project shows predictions and had chosen nothing, and an `http` backend gets
a project webhook to its `/webhook` (functions/domain/ml_webhooks.py), through which it hears of every
annotation. Renaming the backend renames the project's choice; deleting it clears it and removes the
webhook.
"""

from __future__ import annotations

import dataclasses
import logging
import random

from functions.domain.errors import NotFound, ValidationFailed
from functions.domain.ls_json import annotation_json, prediction_json, task_json
from functions.domain.ml_backend import (
    CONNECTED,
    DISCONNECTED,
    ERROR,
    KINDS,
    TRAINING,
    MLBackend,
    check_complete,
    clean_changes,
    short_error,
)
from functions.domain.records import Prediction, Project, Task, User
from functions.domain.url_guard import BlockedURL, parse_allow_list, parse_target
from functions.ml import budget, guarded_http
from functions.ml.client import client_for
from functions.ml.protocol import BackendDown, predict_request
from functions.ml.responses import BackendError, drafts_for, parse_predictions
from functions.services import access, webhooks
from functions.services.projects import config_of, replace_model_version
from functions.settings import get_settings
from functions.store import annotations as annotation_store
from functions.store import ml_backends as backend_store
from functions.store import ml_endpoints as endpoint_store
from functions.store import predictions as prediction_store
from functions.store import tasks as task_store

logger = logging.getLogger(__name__)

# Fields whose change means the backend must be connected again.
_CONNECTION_FIELDS = (
    "url",
    "auth_method",
    "basic_auth_user",
    "basic_auth_pass",
    "extra_params",
    "endpoint_name",
    "region",
    "target_variant",
)
_NOT_INTERACTIVE = "Model is not set to be used for interactive preannotations"


def backend_for(user: User, backend_id: int, *, manage: bool = False) -> tuple[MLBackend, Project]:
    backend = backend_store.get(backend_id)
    try:
        project = access.project_for(user, backend.project_id, manage=manage)
    except NotFound:
        raise NotFound(backend_store.NOT_FOUND) from None
    return backend, project


def _target_field(backend: MLBackend) -> str:
    return "endpoint_name" if backend.kind == "sagemaker" else "url"


def _check_url(backend: MLBackend) -> None:
    """A blocked URL is a 400 naming `url` before anything is called."""
    if backend.kind != "http":
        return
    try:
        target = parse_target(backend.url)
        guarded_http.resolve(target, parse_allow_list(get_settings().allowed_hosts))
    except BlockedURL as exc:
        raise ValidationFailed.field("url", str(exc)) from None
    except guarded_http.Unreachable:
        pass  # the health check reports it with Label Studio's message


def _connect(backend: MLBackend, project: Project) -> None:
    """Validate a new or edited backend as Label Studio does; raise a 400 naming the field to fix."""
    check_complete(backend, get_settings().sagemaker_endpoint_prefix)
    _check_url(backend)
    client = client_for(backend)
    where = backend.url if backend.kind == "http" else backend.endpoint_name
    try:
        version = client.setup(project)
        if backend.kind == "sagemaker":
            _test_invocation(client, backend, project)
    except BackendDown as exc:
        raise ValidationFailed.field(
            _target_field(backend),
            short_error(
                f"Can't connect to ML backend {where}, health check failed. Make sure it is up and your "
                f"firewall is properly configured. Reason: {exc}"
            ),
        ) from None
    except BackendError as exc:
        raise ValidationFailed.field(
            _target_field(backend),
            short_error(
                f"Successfully connected to {where} but it doesn't look like a valid ML backend. "
                f"Reason: {exc}"
            ),
        ) from None
    backend.state, backend.error_message = CONNECTED, None
    if version and (backend.auto_update or not backend.model_version):
        backend.model_version = version


def _test_invocation(client, backend: MLBackend, project: Project) -> None:
    """A SageMaker endpoint proves it speaks the protocol by predicting one task (none if the project
    has no tasks yet) and answering in shape."""
    first = task_store.batch_get(task_store.page_ids(project.id, 0, 1))
    timeout = budget.for_request(backend).call_timeout()
    results, _ = client.predict(project, backend_tasks(first), timeout=timeout)
    parse_predictions(results, len(first), config_of(project))


def create(user: User, fields: dict) -> MLBackend:
    project_id = fields.get("project")
    if not isinstance(project_id, int) or isinstance(project_id, bool):
        raise ValidationFailed.field("project", "This field is required and must be a project id.")
    project = access.project_for(user, project_id, manage=True)
    kind = fields.get("kind") or "http"
    if kind not in KINDS:
        raise ValidationFailed.field(
            "kind", f'"{kind}" is not a valid choice; expected one of {list(KINDS)}.'
        )
    backend = MLBackend(id=0, project_id=project.id, kind=kind, timeout=get_settings().ml_predict_timeout)
    for name, value in clean_changes(fields).items():
        setattr(backend, name, value)
    _connect(backend, project)
    backend.id = backend_store.new_id()
    _claim_endpoint(backend)
    try:
        backend_store.create(backend)
    except Exception:
        _release_endpoint(backend)
        raise
    if project.show_collab_predictions and not project.model_version:
        # Label Studio's `perform_create`: the new model is what annotators see, as imported predictions'
        # version would be.
        replace_model_version(project.id, "", backend.title)
    if backend.kind == "http":
        _follow_webhooks(project.id, backend)
    return backend


def _follow_webhooks(project_id: int, written: MLBackend) -> None:
    """The project's backend webhooks after `written` was saved (the project index, which DynamoDB
    updates a moment later, may not show it yet)."""
    others = [b for b in backend_store.list_for_project(project_id) if b.id != written.id]
    webhooks.follow_ml_backends(project_id, [*others, written])


def _claim_endpoint(backend: MLBackend) -> None:
    """Own the backend's SageMaker endpoint for its project, or make the backend read-only."""
    if backend.kind == "sagemaker":
        owned = endpoint_store.claim(backend.region, backend.endpoint_name, backend.project_id, backend.id)
        backend.read_only = not owned


def _release_endpoint(backend: MLBackend) -> None:
    """Free the endpoint if this was the last of its project's backends on it (and the project owns it)."""
    if backend.kind != "sagemaker" or backend.read_only:
        return
    others = [
        b
        for b in backend_store.list_for_project(backend.project_id)
        if b.id != backend.id and _same_endpoint(b, backend)
    ]
    if not others:
        endpoint_store.release(backend.region, backend.endpoint_name, backend.project_id)


def _same_endpoint(one: MLBackend, other: MLBackend) -> bool:
    return (one.kind, one.region, one.endpoint_name) == (other.kind, other.region, other.endpoint_name)


def endpoint_owner(backend: MLBackend) -> int | None:
    """The project that owns the backend's SageMaker endpoint now (None for `http` or when unowned)."""
    if backend.kind != "sagemaker":
        return None
    found = endpoint_store.owner(backend.region, backend.endpoint_name)
    return found.project_id if found else None


def remove(backend: MLBackend) -> None:
    """Delete the backend, release its endpoint if it was its project's last backend there, and remove the
    webhook made for it. A project that showed this backend's predictions (its title) shows none now,
    as in Label Studio, unless another of its backends has the same title."""
    backend_store.delete(backend.id)
    _release_endpoint(backend)
    others = [b for b in backend_store.list_for_project(backend.project_id) if b.id != backend.id]
    if not any(b.title == backend.title for b in others):
        replace_model_version(backend.project_id, backend.title, "")
    if backend.kind == "http":
        webhooks.follow_ml_backends(backend.project_id, others)


def list_for(user: User, project_id: int) -> list[MLBackend]:
    access.project_for(user, project_id)
    return backend_store.list_for_project(project_id)


def get(user: User, backend_id: int) -> MLBackend:
    backend, project = backend_for(user, backend_id)
    return refresh(backend, project)


def refresh(backend: MLBackend, project: Project) -> MLBackend:
    """Label Studio's `update_state`: call the backend and record what it showed (not while it trains,
    nor over a failed run's reason, which stays until the next run)."""
    if backend.state == TRAINING or backend.training_failed:
        return backend
    try:
        version = client_for(backend).setup(project)
    except BackendDown as exc:
        return backend_store.set_status(backend, DISCONNECTED, short_error(str(exc)))
    except BackendError as exc:
        return backend_store.set_status(backend, ERROR, short_error(str(exc)))
    return record_setup(backend, version)


def record_setup(backend: MLBackend, version: str) -> MLBackend:
    """/health and /setup worked: CO with the version /setup reported (when the backend follows it),
    except over a failed prediction's or training run's ER, which only a prediction or a run clears."""
    new_version = version if version and backend.auto_update else None
    changed = bool(new_version and new_version != backend.model_version)
    if backend.state == TRAINING:
        return backend
    if backend.predict_failed or backend.training_failed:
        if not changed:
            return backend
        return backend_store.set_status(
            backend,
            backend.state,
            backend.error_message,
            new_version,
            predict_failed=backend.predict_failed,
            training_failed=backend.training_failed,
        )
    if backend.state != CONNECTED or backend.error_message or changed:
        return backend_store.set_status(backend, CONNECTED, None, new_version)
    return backend


def record_failure(backend: MLBackend, reason: str, *, predicting: bool = True) -> MLBackend:
    """The backend failed: state ER with the reason (what users see on the backend). A failed
    prediction's ER stays until a prediction succeeds; a failed /setup's until the next refresh."""
    logger.warning("ML backend %s failed: %s", backend.id, reason)
    return backend_store.set_status(backend, ERROR, short_error(reason), predict_failed=predicting)


def record_success(backend: MLBackend, model_version: str | None = None) -> MLBackend:
    """The backend answered a prediction correctly: back to CO (not while a training run has it)."""
    if backend.state == TRAINING:
        return backend
    if backend.state != CONNECTED or backend.error_message or backend.predict_failed:
        return backend_store.set_status(backend, CONNECTED, None, model_version)
    if model_version and model_version != backend.model_version:
        return backend_store.set_status(backend, CONNECTED, None, model_version)
    return backend


def update(user: User, backend_id: int, fields: dict) -> MLBackend:
    """Write the fields sent, and only those, in one conditional write, so parallel edits of different
    fields all land. A new location (URL, credentials, endpoint) is connected first; the write is then
    conditional on the rest of the location being the one connected with. A renamed backend takes the
    project's model version along when the project showed it (Label Studio's `MLBackend.save`), and a
    moved `http` backend its webhook."""
    backend, project = backend_for(user, backend_id, manage=True)
    changes = clean_changes(fields)
    if "kind" in fields and fields["kind"] != backend.kind:
        raise ValidationFailed.field("kind", "The kind of a backend cannot change; register a new one.")
    edited = dataclasses.replace(backend, **changes)
    moved = any(getattr(edited, name) != getattr(backend, name) for name in _CONNECTION_FIELDS)
    status, unchanged = None, None
    if moved:
        _connect(edited, project)
        status = (edited.state, edited.error_message)
        if "model_version" in changes or edited.model_version != backend.model_version:
            changes["model_version"] = edited.model_version
        unchanged = {name: getattr(backend, name) for name in _CONNECTION_FIELDS if name not in changes}
    same_endpoint = _same_endpoint(edited, backend)
    if not same_endpoint:
        _claim_endpoint(edited)
    try:
        before, saved = backend_store.update_fields(
            backend.id,
            changes,
            status=status,
            read_only=None if same_endpoint else edited.read_only,
            unchanged=unchanged,
        )
    except Exception:
        if not same_endpoint:
            _release_endpoint(edited)
        raise
    if not same_endpoint:
        _release_endpoint(backend)
    if saved.title != before.title and project.model_version == before.title:
        replace_model_version(project.id, before.title, saved.title)
    if saved.kind == "http" and saved.url != before.url:
        _follow_webhooks(project.id, saved)
    return saved


def delete(user: User, backend_id: int) -> None:
    backend, _ = backend_for(user, backend_id, manage=True)
    remove(backend)


def backend_tasks(tasks: list[Task], predictions: list[Prediction] | None = None) -> list[dict]:
    """Tasks as Label Studio sends them to a backend: the task's fields with its annotations and
    predictions nested (one BatchGetItem each per 100 tasks; `predictions` if the caller has them)."""
    annotations = annotation_store.batch_get([i for t in tasks for i in t.annotation_ids])
    if predictions is None:
        predictions = prediction_store.batch_get([i for t in tasks for i in t.prediction_ids])
    by_task: dict[int, dict[str, list]] = {t.id: {"annotations": [], "predictions": []} for t in tasks}
    for a in annotations:
        by_task[a.task_id]["annotations"].append(annotation_json(a))
    for p in predictions:
        by_task[p.task_id]["predictions"].append(prediction_json(p))
    return [{**task_json(t), **by_task[t.id]} for t in tasks]


def versions(user: User, backend_id: int) -> dict:
    backend, _ = backend_for(user, backend_id)
    try:
        found = client_for(backend).versions()
    except BackendError as exc:
        return {"versions": [backend.model_version] if backend.model_version else [], "message": str(exc)}
    if found is None:
        return {
            "versions": [backend.model_version] if backend.model_version else [],
            "message": "Upgrade your ML backend version to latest.",
        }
    return {"versions": found}


def interactive(user: User, backend_id: int, body: dict) -> dict:
    """`{task, context}` -> `{"data": <the backend's prediction for the task>}` (errors as LS: 200
    with `{"errors": [...]}`, so the editor keeps working)."""
    backend, project = backend_for(user, backend_id)
    if not backend.is_interactive:
        return {"errors": [_NOT_INTERACTIVE]}
    task_id = body.get("task")
    if not isinstance(task_id, int) or isinstance(task_id, bool):
        raise ValidationFailed.field("task", "This field is required and must be a task id.")
    context = body.get("context")
    if context is not None and not isinstance(context, dict):
        raise ValidationFailed.field("context", "Must be a JSON object.")
    task, _ = access.task_for(user, task_id)
    if task.project_id != project.id:
        raise NotFound("No Task matches the given query.")
    timeout = budget.for_request(backend).call_timeout()
    try:
        sent = backend_tasks([task])
        results, _ = client_for(backend).predict(project, sent, context=context, timeout=timeout)
        if results:
            drafts_for(results[0], config_of(project), 0)
    except BackendError as exc:
        record_failure(backend, str(exc))
        return {"errors": [short_error(str(exc))]}
    record_success(backend)
    return {"data": results[0] if results else None}


def predict_test(user: User, backend_id: int) -> dict:
    """Label Studio's test (`?random=true`): one random task through `/predict`, the whole exchange in
    the answer."""
    backend, project = backend_for(user, backend_id, manage=True)
    count = project.task_number
    if count < 1:
        raise ValidationFailed.field("project", "The project has no tasks to predict.")
    ids = task_store.page_ids(project.id, random.randrange(count), 1)  # noqa: S311 -- any task will do
    task = task_store.batch_get(ids)[0] if ids else None
    if task is None:
        raise ValidationFailed.field("project", "The project has no tasks to predict.")
    sent = backend_tasks([task])
    request = predict_request(project, sent, None)
    where = backend.url.rstrip("/") + "/predict" if backend.kind == "http" else backend.endpoint_name
    timeout = budget.for_request(backend).call_timeout()
    try:
        results, _ = client_for(backend).predict(project, sent, timeout=timeout)
        parse_predictions(results, len(sent), config_of(project))
    except BackendError as exc:
        record_failure(backend, str(exc))
        return {
            "status": 500,
            "error_message": short_error(str(exc)),
            "url": where,
            "task": sent[0],
            "request": request,
            "response": None,
        }
    record_success(backend)
    return {
        "status": 200,
        "error_message": None,
        "url": where,
        "task": sent[0],
        "request": request,
        "response": results,
    }
