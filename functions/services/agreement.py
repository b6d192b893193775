"""Agreement between a task's annotators, per task and summarised over a project."""

from __future__ import annotations

from collections.abc import Iterator

from functions.domain.agreement import project_agreement, task_agreement
from functions.domain.records import Annotation, User
from functions.services import access
from functions.store import annotations as annotation_store
from functions.store import tasks as task_store


def _answered(annotations: list[Annotation]) -> list[list[dict]]:
    return [a.result for a in annotations if not a.was_cancelled and a.result is not None]


def for_task(user: User, task_id: int) -> dict:
    task, _ = access.task_for(user, task_id)
    results = _answered(annotation_store.batch_get(task.annotation_ids))
    return {"task": task.id, "annotations": len(results), "agreement": task_agreement(results)}


def for_project(user: User, project_id: int) -> dict:
    """One pass over the project's tasks, a page of tasks and their annotations at a time."""
    project = access.project_for(user, project_id)

    def per_task() -> Iterator[float | None]:
        for chunk in task_store.iter_ids(project.id):
            tasks = [t for t in task_store.batch_get(chunk) if t.total_annotations > 1]
            by_task: dict[int, list[Annotation]] = {}
            for a in annotation_store.batch_get([i for t in tasks for i in t.annotation_ids]):
                by_task.setdefault(a.task_id, []).append(a)
            for task in tasks:
                yield task_agreement(_answered(by_task.get(task.id, [])))

    return {"project": project.id, **project_agreement(per_task())}
