"""The Data Manager: task lists filtered and ordered by Label Studio's query JSON, and bulk actions on
the selected tasks (`/api/dm/actions`).

A filtered or ordered list reads the project's tasks a page at a time and keeps the matching ones (no
task data) — linear in the project size, as a filter over arbitrary task data must be. The unfiltered
list keeps its constant-cost path (services/tasks.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from functions.domain.errors import NotFound, ValidationFailed
from functions.domain.label_stream import counts_toward_labeled
from functions.domain.records import Annotation, Project, Task, User, utcnow
from functions.domain.task_query import TaskQuery
from functions.services import access, dm_views, ml_predictions, webhooks
from functions.services.tasks import delete_task_records
from functions.store import annotations as annotation_store
from functions.store import predictions as prediction_store
from functions.store import tasks as task_store

# Label Studio's hidden action: the label stream over the tasks a query or view selects (listed nowhere;
# services/label_stream.py answers it).
NEXT_TASK = "next_task"
ACTIONS = {
    "delete_tasks": "Delete tasks",
    "delete_tasks_annotations": "Delete annotations",
    "delete_tasks_predictions": "Delete predictions",
    "predictions_to_annotations": "Create annotations from predictions",
    "retrieve_tasks_predictions": "Retrieve Predictions",
}
_MANAGER_ONLY = {
    "delete_tasks",
    "delete_tasks_annotations",
    "delete_tasks_predictions",
    "retrieve_tasks_predictions",
}


def actions_for(user: User) -> dict[str, str]:
    """The actions `user` may run ({id: title}), as Label Studio lists only those the user has the
    permission for: a page never offers an action that would be refused."""
    return {a: title for a, title in ACTIONS.items() if user.can_manage_projects or a not in _MANAGER_ONLY}


def task_row(task: Task) -> dict:
    """The task's Data Manager columns, as `TaskQuery` reads them."""
    return {
        "id": task.id,
        "inner_id": task.inner_id,
        "total_annotations": task.total_annotations,
        "cancelled_annotations": task.cancelled_annotations,
        "total_predictions": task.total_predictions,
        "annotators": list(task.annotators),
        "predictions_score": task.predictions_score,
        "completed_at": task.completed_at,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "is_labeled": task.is_labeled,
        "data": task.data,
    }


def _project_tasks(project_id: int) -> Iterator[Task]:
    for chunk in task_store.iter_ids(project_id):
        yield from task_store.batch_get(chunk)


def select(project_id: int, query: TaskQuery) -> list[Task]:
    """The tasks the query selects, in its order."""
    explicit = query.explicit_ids()
    source = (
        (t for t in task_store.batch_get(explicit) if t.project_id == project_id)
        if explicit is not None
        else _project_tasks(project_id)
    )
    chosen = [t for t in source if query.is_selected(t.id) and query.matches(task_row(t))]
    return query.sort(chosen, key=task_row) if query.ordering else chosen


def filtered_page(
    user: User, project_id: int, query: TaskQuery, page: int, page_size: int
) -> tuple[Project, int, list[Task]]:
    """(project, how many tasks match, the page) for a task list with a Data Manager query."""
    project = access.project_for(user, project_id)
    if page < 1:
        raise NotFound("Invalid page.")
    matching = select(project.id, query)
    start = (page - 1) * page_size
    if page > 1 and start >= len(matching):
        raise NotFound("Invalid page.")
    return project, len(matching), matching[start : start + page_size]


def calls_backends(action: str) -> bool:
    """Whether the action calls the project's ML backend (and so may wait on it)."""
    return action == "retrieve_tasks_predictions"


def run_action(user: User, project_id: int, action: str, raw_query, view_id: int | None = None) -> dict:
    if action not in ACTIONS:
        raise ValidationFailed.field(
            "id", f"Unknown action {action!r}; expected one of {', '.join(ACTIONS)}."
        )
    project = access.project_for(user, project_id, manage=action in _MANAGER_ONLY)
    tasks = select(project.id, dm_views.scope(user, project, raw_query, view_id))
    if action == "delete_tasks":
        for task in tasks:
            delete_task_records(project, task)
        webhooks.tasks_deleted(project.id, [t.id for t in tasks], utcnow())
        return {"processed_items": len(tasks), "reload": True, "detail": f"Deleted {len(tasks)} tasks"}
    if action == "delete_tasks_annotations":
        removed = _delete_annotations(project, tasks)
        return {"processed_items": removed, "detail": f"Deleted {removed} annotations"}
    if action == "retrieve_tasks_predictions":
        return ml_predictions.retrieve(user, project, tasks)
    if action == "delete_tasks_predictions":
        removed = _delete_predictions(tasks)
        return {"processed_items": removed, "detail": f"Deleted {removed} predictions"}
    created = _predictions_to_annotations(user, project, tasks)
    return {"processed_items": created, "detail": f"Created {created} annotations"}


def _delete_annotations(project: Project, tasks: list[Task]) -> int:
    removed = 0
    for task in tasks:
        annotations = annotation_store.batch_get(task.annotation_ids)
        for i, annotation in enumerate(annotations):
            annotation_store.remove(
                annotation,
                others=annotations[i + 1 :],
                counts_toward_labeled=counts_toward_labeled(annotation.was_cancelled, project.skip_queue),
            )
            removed += 1
    return removed


def _delete_predictions(tasks: list[Task]) -> int:
    removed = 0
    for task in tasks:
        for prediction in prediction_store.batch_get(task.prediction_ids):
            prediction_store.remove(prediction, scores={}, uncertainty=None)
            removed += 1
    return removed


def _predictions_to_annotations(user: User, project: Project, tasks: list[Task]) -> int:
    """Label Studio's action: the newest prediction of each task (of the project's model version, when
    it has one) becomes an annotation by the caller, who must not have answered the task yet."""
    created = 0
    for task in tasks:
        if user.id in task.annotators:
            continue
        predictions = prediction_store.batch_get(task.prediction_ids)
        if project.model_version:
            predictions = [p for p in predictions if p.model_version == project.model_version]
        if not predictions:
            continue
        newest = max(predictions, key=lambda p: (p.created_at, p.id))
        annotation = Annotation(
            id=annotation_store.new_ids(1),
            task_id=task.id,
            project_id=project.id,
            result=newest.result,
            completed_by=user.id,
            updated_by=user.id,
            parent_prediction=newest.id,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        annotation_store.insert(annotation, counts_toward_labeled=True)
        created += 1
    return created
