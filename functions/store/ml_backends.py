"""ML backends: one item per backend, listed per project through the project index.

Two kinds of writes: a user's edit of the settings (`save`, under the optimistic version), and what the
server learns from the backend — state, error, model version, job progress (`set_status`, `set_job`),
plain updates of their own attributes, so a running prediction job never conflicts with an edit.
"""

from __future__ import annotations

import dataclasses
import json

from functions.domain.errors import NotFound
from functions.domain.ml_backend import EDITABLE, MLBackend
from functions.domain.records import utcnow
from functions.store import ids
from functions.store.errors import conflict_on_condition
from functions.store.models import MLBackendModel

NOT_FOUND = "No MLBackend matches the given query."
_SETTINGS = tuple(name for name in ("kind", *EDITABLE) if name != "model_version")


def _to_backend(item: MLBackendModel) -> MLBackend:
    settings = json.loads(item.fields)
    return MLBackend(
        id=int(item.id),
        project_id=int(item.project_id),
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version or 0),
        state=item.state or "DI",
        error_message=item.error_message,
        model_version=item.model_version or "",
        job=json.loads(item.job) if item.job else {},
        training_failed=bool(item.training_failed),
        predict_failed=bool(item.predict_failed),
        read_only=bool(item.read_only),
        **{k: v for k, v in settings.items() if k in _SETTINGS},
    )


def _settings_json(backend: MLBackend) -> str:
    data = dataclasses.asdict(backend)
    return json.dumps({k: data[k] for k in _SETTINGS}, separators=(",", ":"))


def new_id() -> int:
    return ids.reserve("ml_backend")


def create(backend: MLBackend) -> MLBackend:
    item = MLBackendModel(
        backend.id,
        project_id=backend.project_id,
        fields=_settings_json(backend),
        state=backend.state,
        error_message=backend.error_message,
        model_version=backend.model_version,
        read_only=backend.read_only,
        created_at=backend.created_at,
        updated_at=backend.updated_at,
        version=0,
    )
    with conflict_on_condition("ML backend id already taken"):
        item.save(condition=MLBackendModel.id.does_not_exist())
    return backend


def get(backend_id: int) -> MLBackend:
    try:
        return _to_backend(MLBackendModel.get(backend_id, consistent_read=True))
    except MLBackendModel.DoesNotExist:
        raise NotFound(NOT_FOUND) from None


def list_for_project(project_id: int) -> list[MLBackend]:
    """The project's backends, oldest first (the first is the one batch predictions use, as in LS)."""
    return [_to_backend(item) for item in MLBackendModel.project_index.query(project_id)]


def save(backend: MLBackend) -> MLBackend:
    """Write the user's settings (and status) if nobody edited the backend since it was read."""
    backend.updated_at = utcnow()
    expected = backend.version
    with conflict_on_condition("The ML backend was changed by someone else; reload it and try again."):
        MLBackendModel(backend.id).update(
            actions=[
                MLBackendModel.fields.set(_settings_json(backend)),
                MLBackendModel.version.set(expected + 1),
                MLBackendModel.read_only.set(backend.read_only),
                *_status_actions(backend.state, backend.error_message, backend.model_version),
                MLBackendModel.updated_at.set(backend.updated_at),
            ],
            condition=MLBackendModel.version == expected,
        )
    backend.version = expected + 1
    return backend


def _status_actions(
    state: str,
    error_message: str | None,
    model_version: str | None,
    training_failed: bool = False,
    predict_failed: bool = False,
) -> list:
    actions = [
        MLBackendModel.state.set(state),
        MLBackendModel.training_failed.set(training_failed),
        MLBackendModel.predict_failed.set(predict_failed),
        MLBackendModel.error_message.set(error_message)
        if error_message is not None
        else MLBackendModel.error_message.remove(),
    ]
    if model_version is not None:
        actions.append(MLBackendModel.model_version.set(model_version))
    return actions


def set_status(
    backend: MLBackend,
    state: str,
    error_message: str | None = None,
    model_version: str | None = None,
    *,
    training_failed: bool = False,
    predict_failed: bool = False,
) -> MLBackend:
    """Record what calling the backend showed (no version check: the server's observation wins).
    `training_failed`/`predict_failed` say whose error it is (MLBackend)."""
    backend.state, backend.error_message, backend.updated_at = state, error_message, utcnow()
    backend.training_failed, backend.predict_failed = training_failed, predict_failed
    if model_version is not None:
        backend.model_version = model_version
    with conflict_on_condition(NOT_FOUND):
        MLBackendModel(backend.id).update(
            actions=[
                *_status_actions(state, error_message, model_version, training_failed, predict_failed),
                MLBackendModel.updated_at.set(backend.updated_at),
            ],
            condition=MLBackendModel.id.exists(),
        )
    return backend


def set_job(backend_id: int, job: dict) -> None:
    with conflict_on_condition(NOT_FOUND):
        MLBackendModel(backend_id).update(
            actions=[MLBackendModel.job.set(json.dumps(job))], condition=MLBackendModel.id.exists()
        )


def start_job(backend_id: int, job: dict) -> bool:
    """Record a new job unless one is still running; False if one is."""
    running = MLBackendModel.job.does_not_exist() | ~MLBackendModel.job.contains('"status": "running"')
    try:
        MLBackendModel(backend_id).update(
            actions=[MLBackendModel.job.set(json.dumps(job))], condition=MLBackendModel.id.exists() & running
        )
    except Exception as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def delete(backend_id: int) -> None:
    MLBackendModel(backend_id).delete()
