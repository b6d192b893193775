"""The Label Studio ML-backend JSON: reading requests (naming the field that is wrong) and shaping answers.

Requests are what Label Studio 1.23 sends (`/setup`, `/predict`, `/webhook`, the legacy `/train`); the
SageMaker routes take the `/predict` body unchanged. Answers are what Label Studio reads back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_PROJECT_ID = re.compile(r"[0-9]{1,20}")


class BadRequest(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class PredictRequest:
    tasks: list[dict]
    project_id: str | None
    label_config: str | None
    context: dict | None
    params: dict  # the rest of `params` (login, password), passed to predict as keyword arguments


@dataclass(frozen=True)
class SetupRequest:
    project_id: str | None
    label_config: str | None
    extra_params: str | dict | None


@dataclass(frozen=True)
class TrainingEvent:
    event: str
    project_id: str | None
    label_config: str | None
    data: dict  # the payload without `action`, as `fit(event, data)` receives it
    tasks: list | None = None  # the legacy `/train` body's tasks with annotations


def project_id_of(project: Any, field: str = "project") -> str | None:
    """`"14.1795384847"` (Label Studio's project UID: id, dot, creation time) or `14` -> `"14"`."""
    if project is None or project == "":
        return None
    ident = str(project).split(".", 1)[0] if isinstance(project, str | int) else ""
    # The id names the project's folder on the server: digits only, never a path.
    if isinstance(project, bool) or not _PROJECT_ID.fullmatch(ident):
        raise BadRequest(field, "must be a project id or Label Studio's '<id>.<timestamp>' string")
    return ident


def _object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise BadRequest("body", "must be a JSON object")
    return body


def _optional_string(body: dict, field: str, name: str | None = None) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise BadRequest(name or field, "must be a string (the label config XML)")
    return value or None


def parse_predict(body: Any) -> PredictRequest:
    body = _object(body)
    tasks = body.get("tasks")
    if not isinstance(tasks, list):
        raise BadRequest("tasks", "must be a list of task objects")
    for i, task in enumerate(tasks):
        if not isinstance(task, dict):
            raise BadRequest(f"tasks[{i}]", "must be a task object")
        if not isinstance(task.get("data", {}), dict):
            raise BadRequest(f"tasks[{i}].data", "must be an object")
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise BadRequest("params", "must be an object")
    params = dict(params)
    context = params.pop("context", None)
    if context is not None and not isinstance(context, dict):
        raise BadRequest("params.context", "must be an object or null")
    return PredictRequest(
        tasks=tasks,
        project_id=project_id_of(body.get("project")),
        label_config=_optional_string(body, "label_config"),
        context=context,
        params=params,
    )


def parse_setup(body: Any) -> SetupRequest:
    body = _object(body)
    extra_params = body.get("extra_params")
    if extra_params is not None and not isinstance(extra_params, str | dict):
        raise BadRequest("extra_params", "must be a JSON string, an object or null")
    return SetupRequest(
        project_id=project_id_of(body.get("project")),
        label_config=_optional_string(body, "schema"),
        extra_params=extra_params,
    )


def parse_webhook(body: Any, train_events: tuple[str, ...]) -> TrainingEvent | None:
    """The training event in a webhook body, or None for an event the model does not train on."""
    data = dict(_object(body))
    event = data.pop("action", None)
    if not isinstance(event, str) or not event:
        raise BadRequest("action", "must be the event name, e.g. ANNOTATION_CREATED")
    if event not in train_events:
        return None
    project = data.get("project")
    if not isinstance(project, dict):
        raise BadRequest("project", "must be the project object (with id and label_config)")
    if project.get("id") is None:
        raise BadRequest("project.id", "is required")
    return TrainingEvent(
        event=event,
        project_id=project_id_of(project["id"], "project.id"),
        label_config=_optional_string(project, "label_config", "project.label_config"),
        data=data,
    )


def parse_train(body: Any) -> TrainingEvent:
    """The legacy `/train` body: `{annotations: [tasks with annotations], project, label_config, params}`."""
    body = _object(body)
    tasks = body.get("annotations")
    if not isinstance(tasks, list) or not tasks:
        raise BadRequest("annotations", "must be a non-empty list of tasks with annotations")
    project = body.get("project")
    project_id = None if isinstance(project, dict) else project_id_of(project)
    label_config = _optional_string(body, "label_config")
    data = {"annotations": tasks, "project": {"id": project_id, "label_config": label_config}}
    return TrainingEvent(
        event="START_TRAINING", project_id=project_id, label_config=label_config, data=data, tasks=tasks
    )


def predict_response(output: Any, model_version: str | None) -> dict:
    """`{"results": [...]}` from what `predict` returned: a list, a `ModelResponse`, or None.

    Every prediction without a `model_version` gets the model's, as Label Studio's SDK does for a
    `ModelResponse` (Label Studio would otherwise fall back to the version `/setup` reported).
    """
    if output is None:
        return {"results": []}
    if hasattr(output, "predictions"):
        model_version = getattr(output, "model_version", None) or model_version
        output = output.predictions
    if not isinstance(output, list | tuple):
        raise TypeError(f"predict returned {type(output).__name__}; expected a list or a ModelResponse")
    return {"results": [_entry(entry, model_version) for entry in output]}


def _entry(entry: Any, model_version: str | None):
    if isinstance(entry, list | tuple):
        return [_prediction(item, model_version) for item in entry]
    return _prediction(entry, model_version)


def _prediction(item: Any, model_version: str | None) -> dict:
    if hasattr(item, "model_dump"):
        item = item.model_dump(exclude_none=False)
        item["result"] = [r.model_dump() if hasattr(r, "model_dump") else r for r in item.get("result") or []]
    if not isinstance(item, dict):
        raise TypeError(f"a prediction must be an object, got {type(item).__name__}")
    if not item.get("model_version") and model_version:
        item = {**item, "model_version": model_version}
    return item
