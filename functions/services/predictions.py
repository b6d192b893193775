"""Predictions: model output attached to tasks, created by scripts, imports and ML backends."""

from __future__ import annotations

from functions.domain import fields as field_types
from functions.domain.errors import NotFound, ValidationFailed
from functions.domain.label_stream import uncertainty
from functions.domain.records import Prediction, Project, User, utcnow
from functions.services import access
from functions.services.projects import config_of
from functions.store import predictions as prediction_store
from functions.store import tasks as task_store

MAX_LIST = 10_000
MODEL_VERSION_MAX = 255
MAX_IMPORT = 10_000  # predictions per `import/predictions` request
_IMPORT_BATCH = 100  # tasks per store write


def _result(project: Project, value) -> list:
    config = config_of(project)
    try:
        result = value if isinstance(value, list) else config.prediction_result_from_value(value)
        config.validate_result(result)
    except ValueError as exc:
        raise ValidationFailed.field("result", str(exc)) from None
    return result


def _score(value) -> float | None:
    """Label Studio stores a float; here it must also be finite and fit a DynamoDB number."""
    return field_types.optional(field_types.number, value, "score", from_text=True)


def _model_version(value) -> str:
    return field_types.text(value, "model_version", max_length=MODEL_VERSION_MAX)


def _model(value) -> int | None:
    # Label Studio's `model` is the ML backend that made it; anything but an id is left out, as before.
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= field_types.ID_MAX:
        return value
    return None


def prediction_for(user: User, prediction_id: int, *, manage: bool = False) -> tuple[Prediction, Project]:
    prediction = prediction_store.get(prediction_id)
    try:
        project = access.project_for(user, prediction.project_id, manage=manage)
    except NotFound:
        raise NotFound("No Prediction matches the given query.") from None
    return prediction, project


def create(user: User, fields: dict) -> Prediction:
    task_id = fields.get("task")
    if not isinstance(task_id, int) or isinstance(task_id, bool):
        raise ValidationFailed.field("task", "This field is required and must be a task id.")
    task, project = access.task_for(user, task_id, manage=True)
    if "result" not in fields:
        raise ValidationFailed.field("result", "This field is required.")
    model_version = _model_version(fields.get("model_version") or "undefined")
    prediction = Prediction(
        id=prediction_store.new_ids(1),
        task_id=task.id,
        project_id=project.id,
        result=_result(project, fields["result"]),
        score=_score(fields.get("score")),
        model_version=model_version,
        model=_model(fields.get("model")),
    )
    scores = None
    if prediction.score is not None:
        scores = {**task.prediction_scores, prediction.model_version: prediction.score}
    return prediction_store.insert(
        prediction, scores=scores, uncertainty=uncertainty(scores or {}, project.model_version)
    )


def import_predictions(user: User, project_id: int, items) -> dict:
    """Label Studio's `POST /api/projects/{id}/import/predictions` (the legacy SDK's
    `create_predictions`): a list of `{task, result, score, model_version}`, every task one of the
    project's. All or nothing: any bad item is a 400 naming it, before anything is stored."""
    project = access.project_for(user, project_id, manage=True)
    if not isinstance(items, list) or not items:
        raise ValidationFailed.field("non_field_errors", "Expected a non-empty list of predictions.")
    if len(items) > MAX_IMPORT:
        raise ValidationFailed.field(
            "non_field_errors", f"At most {MAX_IMPORT} predictions per request; send {len(items)} in parts."
        )
    wanted: list[int] = sorted({i["task"] for i in items if isinstance(i, dict) and _is_id(i.get("task"))})
    tasks = {t.id: t for t in task_store.batch_get(wanted) if t.project_id == project.id}
    drafts: list[Prediction] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationFailed.field(f"{index}", "Must be a prediction object.")
        task_id = item.get("task")
        if not _is_id(task_id) or task_id not in tasks:
            raise ValidationFailed.field(
                f"{index}.task",
                f"{task_id!r} is not a task of project {project.id}; predictions must name one of its tasks.",
            )
        try:
            drafts.append(_draft(project, task_id, item))
        except ValidationFailed as exc:
            raise ValidationFailed({f"{index}.{k}": v for k, v in exc.errors.items()}) from None
    next_id = prediction_store.new_ids(len(drafts))
    for offset, prediction in enumerate(drafts):
        prediction.id = next_id + offset
    by_task: dict[int, list[Prediction]] = {}
    for prediction in drafts:
        by_task.setdefault(prediction.task_id, []).append(prediction)
    task_ids = list(by_task)
    for start in range(0, len(task_ids), _IMPORT_BATCH):
        chunk = task_ids[start : start + _IMPORT_BATCH]
        scores: dict[int, tuple[dict[str, float], float | None]] = {}
        for task_id in chunk:
            found = dict(tasks[task_id].prediction_scores)
            found.update({p.model_version: p.score for p in by_task[task_id] if p.score is not None})
            if found != tasks[task_id].prediction_scores:
                scores[task_id] = (found, uncertainty(found, project.model_version))
        prediction_store.insert_batch(project.id, [p for t in chunk for p in by_task[t]], scores)
    return {"created": len(drafts)}


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _draft(project: Project, task_id: int, fields: dict) -> Prediction:
    if "result" not in fields:
        raise ValidationFailed.field("result", "This field is required.")
    model_version = fields.get("model_version") or "undefined"
    if not isinstance(model_version, str) or len(model_version) > 255:
        raise ValidationFailed.field("model_version", "Must be a string of at most 255 characters.")
    return Prediction(
        id=0,
        task_id=task_id,
        project_id=project.id,
        result=_result(project, fields["result"]),
        score=_score(fields.get("score")),
        model_version=model_version,
        model=fields.get("model") if _is_id(fields.get("model")) else None,
    )


def list_predictions(user: User, task_id: int | None, project_id: int | None) -> list[Prediction]:
    if task_id is not None:
        task, _ = access.task_for(user, task_id)
        return prediction_store.batch_get(task.prediction_ids)
    if project_id is None:
        raise ValidationFailed.field("task", "Filter by task or project.")
    access.project_for(user, project_id)
    found: list[Prediction] = []
    for chunk in task_store.iter_ids(project_id):
        ids = [i for t in task_store.batch_get(chunk) for i in t.prediction_ids]
        found.extend(prediction_store.batch_get(ids))
        if len(found) >= MAX_LIST:
            raise ValidationFailed.field("project", f"More than {MAX_LIST} predictions; list them per task.")
    return found


def update(user: User, prediction_id: int, fields: dict) -> Prediction:
    prediction, project = prediction_for(user, prediction_id, manage=True)
    changes: dict = {"updated_at": utcnow()}
    if "result" in fields:
        changes["result"] = _result(project, fields["result"])
    if "score" in fields:
        changes["score"] = _score(fields["score"])
    if "model_version" in fields:
        changes["model_version"] = _model_version(fields["model_version"])
    # Only the carried fields, so a concurrent change of the others is kept; compared with the values
    # this write replaced.
    before, saved = prediction_store.update_fields(prediction.id, changes)
    if saved.score != before.score or saved.model_version != before.model_version:
        task = task_store.get(saved.task_id)
        scores = scores_of(prediction_store.batch_get(task.prediction_ids))
        task_store.set_scores(task.id, scores, uncertainty(scores, project.model_version))
    return saved


def delete(user: User, prediction_id: int) -> None:
    prediction, project = prediction_for(user, prediction_id, manage=True)
    task = task_store.get(prediction.task_id)
    others = prediction_store.batch_get([i for i in task.prediction_ids if i != prediction.id])
    scores = scores_of(others)
    prediction_store.remove(prediction, scores=scores, uncertainty=uncertainty(scores, project.model_version))


def scores_of(predictions: list[Prediction]) -> dict[str, float]:
    """Per model version, the score of its latest scored prediction."""
    scores: dict[str, float] = {}
    for p in sorted(predictions, key=lambda p: (p.created_at, p.id)):
        if p.score is not None:
            scores[p.model_version] = p.score
    return scores
