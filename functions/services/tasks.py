"""Reading, listing, changing and deleting tasks."""

from __future__ import annotations

from dataclasses import dataclass

from functions.domain.errors import NotFound, ValidationFailed
from functions.domain.records import Annotation, Prediction, Project, Task, User, utcnow
from functions.domain.task_import import meta_too_large, normalize_import
from functions.services import access, drafts, ml_predictions, task_media, webhooks
from functions.services.projects import config_of
from functions.store import annotations as annotation_store
from functions.store import ids
from functions.store import predictions as prediction_store
from functions.store import projects as project_store
from functions.store import tasks as task_store
from functions.store import users as user_store

MAX_PAGE_SIZE = 1000


@dataclass
class TaskView:
    """A task with what its JSON shows: annotations, predictions and the users behind them."""

    task: Task
    annotations: list[Annotation]
    predictions: list[Prediction]
    users: dict[int, User]


def views(tasks: list[Task]) -> list[TaskView]:
    """Attach annotations and predictions with one BatchGetItem each (per 100), not one query per task."""
    annotations = annotation_store.batch_get([i for t in tasks for i in t.annotation_ids])
    predictions = prediction_store.batch_get([i for t in tasks for i in t.prediction_ids])
    users = user_store.batch_get(a.completed_by for a in annotations)
    by_task_a: dict[int, list[Annotation]] = {}
    for a in annotations:
        by_task_a.setdefault(a.task_id, []).append(a)
    by_task_p: dict[int, list[Prediction]] = {}
    for p in predictions:
        by_task_p.setdefault(p.task_id, []).append(p)
    return [TaskView(t, by_task_a.get(t.id, []), by_task_p.get(t.id, []), users) for t in tasks]


def get_task(user: User, task_id: int) -> TaskView:
    task, project = access.task_for(user, task_id)
    view = views([task])[0]
    view.predictions = ml_predictions.predict_on_open(project, view.task, view.predictions)
    view.task = task_media.for_browser(view.task)
    return view


def list_tasks(
    user: User, project_id: int, page: int, page_size: int, *, with_children: bool
) -> tuple[Project, list[TaskView] | list[Task]]:
    if page < 1:
        raise NotFound("Invalid page.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed.field("page_size", f"Must be between 1 and {MAX_PAGE_SIZE}.")
    project = access.project_for(user, project_id)
    offset = (page - 1) * page_size
    # Django's paginator: page 1 always exists (maybe empty); a later page past the end is a 404.
    if page > 1 and offset >= project.task_number:
        raise NotFound("Invalid page.")
    task_set = (project.task_number, project.tasks_removed)
    tasks = task_store.batch_get(task_store.page_ids(project_id, offset, page_size, task_set))
    if page > 1 and not tasks:
        raise NotFound("Invalid page.")
    return project, (views(tasks) if with_children else tasks)


def create_task(user: User, project_id: int, data, meta) -> Task:
    project = access.project_for(user, project_id, manage=True)
    item = normalize_import([{"data": data, "meta": meta or {}}], config_of(project))[0]
    task = Task(
        id=ids.reserve("task"),
        project_id=project.id,
        data=item.data,
        meta=item.meta,
        inner_id=project_store.reserve_inner_ids(project.id, 1),
        overlap=project.maximum_annotations,
    )
    task_store.create(task)
    project_store.add_counters(project.id, task_number=1)
    webhooks.tasks_created(project.id, [task])
    return task


def update_task(
    user: User, task_id: int, data=None, meta=None, expected_version: int | None = None
) -> TaskView:
    """Replace the task's `data` and/or `meta` (Label Studio replaces each whole), leaving the rest.

    `expected_version` is the version the client stated (body or If-Match): a stale one is a Conflict.
    Without one the change applies to whatever is stored; concurrent changes of the other field are kept.
    """
    task, project = access.task_for(user, task_id, manage=True)
    changes: dict = {"updated_at": utcnow(), "updated_by": user.id}
    if data is not None:
        if not isinstance(data, dict):
            raise ValidationFailed.field("data", "Expected a JSON object.")
        changes["data"] = normalize_import([{"data": data}], config_of(project))[0].data
    if meta is not None:
        if not isinstance(meta, dict):
            raise ValidationFailed.field("meta", "Expected a JSON object.")
        if (too_large := meta_too_large(meta)) is not None:
            raise ValidationFailed.field("meta", f"{too_large}.")
        changes["meta"] = meta
    updated = task_store.update_fields(task.id, changes, expected_version=expected_version)
    return views([updated])[0]


def delete_task(user: User, task_id: int) -> None:
    task, project = access.task_for(user, task_id, manage=True)
    delete_task_records(project, task)
    webhooks.tasks_deleted(project.id, [task.id], utcnow())


def delete_task_records(project: Project, task: Task) -> None:
    """Delete a task with its annotations and predictions, and take them off the project's counters."""
    annotations = annotation_store.batch_get(task.annotation_ids)
    annotation_store.delete_many(task.annotation_ids)
    prediction_store.delete_many(task.prediction_ids)
    drafts.delete_for_task(task.id)
    task_store.delete(task.id)
    finished = [a for a in annotations if not a.was_cancelled]
    project_store.add_counters(
        project.id,
        task_number=-1,
        tasks_removed=1,
        total_annotations_number=-len(finished),
        skipped_annotations_number=-(len(annotations) - len(finished)),
        ground_truth_number=-sum(a.ground_truth for a in annotations),
        total_predictions_number=-len(task.prediction_ids),
        num_tasks_with_annotations=-int(bool(finished)),
        finished_task_number=-int(task.is_labeled),
    )
