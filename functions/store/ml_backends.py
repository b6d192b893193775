"""ML backends: one item per backend, listed per project through the project index.

Two kinds of writes: a user's edit of the settings (`update_fields`: one conditional UpdateItem of the
settings it carries, store/setting_maps.py), and what the server learns from the backend — state, error,
model version, job progress (`set_status`, `set_job`), plain updates of their own attributes, so a
running prediction job never conflicts with an edit.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from pynamodb.expressions.update import Action

from functions.domain.errors import NotFound
from functions.domain.ml_backend import EDITABLE, MLBackend
from functions.domain.records import utcnow
from functions.store import ids, setting_maps
from functions.store.errors import conflict_on_condition
from functions.store.models import MLBackendModel

NOT_FOUND = "No MLBackend matches the given query."
STALE = "The ML backend was changed by someone else; reload it and try again."
# `model_version` is kept apart: the server writes it too (what /setup reports).
SETTINGS = tuple(name for name in ("kind", *EDITABLE) if name != "model_version")


def _to_backend(item: MLBackendModel) -> MLBackend:
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
        **setting_maps.stored(item.fields, item.setting_values, SETTINGS),
    )


def _setting_values(backend: MLBackend) -> dict[str, str]:
    data = dataclasses.asdict(backend)
    return setting_maps.texts({k: data[k] for k in SETTINGS})


def new_id() -> int:
    return ids.reserve("ml_backend")


def create(backend: MLBackend) -> MLBackend:
    item = MLBackendModel(
        backend.id,
        project_id=backend.project_id,
        setting_values=_setting_values(backend),
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


def update_fields(
    backend_id: int,
    changes: dict[str, Any],
    *,
    status: tuple[str, str | None] | None = None,
    read_only: bool | None = None,
    expected_version: int | None = None,
    unchanged: dict[str, Any] | None = None,
) -> tuple[MLBackend, MLBackend]:
    """Set the settings in `changes` (and `model_version`), and only those, in one UpdateItem; return the
    backend as it was just before the write and as the write left it.

    `status` (state, error) is what connecting the edited backend showed, written with it (and clears
    whose error it was); `read_only` what its endpoint's claim decided. `unchanged`: settings whose stored
    values the caller worked from (the backend it connected); Conflict if another change moved them,
    or if `expected_version` is stale. NotFound when the backend is gone.
    """
    now = utcnow()
    entries = {name: setting_maps.dumps(value) for name, value in changes.items() if name in SETTINGS}
    actions: list[Action] = [MLBackendModel.updated_at.set(now)]
    if "model_version" in changes:
        actions.append(MLBackendModel.model_version.set(changes["model_version"]))
    if status is not None:
        actions += _status_actions(status[0], status[1], None)
    if read_only is not None:
        actions.append(MLBackendModel.read_only.set(read_only))
    unknown = set(changes) - set(SETTINGS) - {"model_version"}
    if unknown:
        raise ValueError(f"not ML backend settings: {sorted(unknown)}")
    old = setting_maps.update(
        MLBackendModel,
        backend_id,
        entries,
        document="fields",
        actions=actions,
        expected_version=expected_version,
        unchanged=setting_maps.texts(unchanged or {}),
        stale=STALE,
        missing=NOT_FOUND,
    )
    before = _to_backend(old)
    after = dataclasses.replace(before, **changes, updated_at=now, version=before.version + 1)
    if status is not None:
        after.state, after.error_message = status
        after.training_failed = after.predict_failed = False
    if read_only is not None:
        after.read_only = read_only
    return before, after


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
