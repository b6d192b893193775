"""Writing "a child changed, and the counters of its task and project with it".

Three conditional/atomic writes in a fixed order rather than one TransactWriteItems call: the task update
goes first and is the concurrency gate (its condition fails if another child landed since the read); the
child is written only after it, and the task update is undone if the child write fails. So the stream
never sees a child that was rolled back, and no counter counts a child that is not stored.
(moto also copies whole tables inside TransactWriteItems, which made a submit take seconds locally.)
"""

from __future__ import annotations

from functions.store.errors import conflict_on_condition
from functions.store.models import ProjectModel, TaskModel


def write_child(*, save=None, save_condition=None, delete=None, task_id: int, task_actions: list,
                undo_task_actions: list, task_condition=None, project_id: int,
                project_counters: dict[str, int]) -> None:
    condition = TaskModel.id.exists() if task_condition is None else (TaskModel.id.exists() & task_condition)
    with conflict_on_condition("The task changed while this request ran; try again."):
        TaskModel(task_id).update(actions=task_actions, condition=condition)
    try:
        with conflict_on_condition("The object changed while this request ran; try again."):
            if save is not None:
                save.save(condition=save_condition)
            if delete is not None:
                delete.delete()
    except Exception:
        TaskModel(task_id).update(actions=undo_task_actions)
        raise
    project_actions = [getattr(ProjectModel, n).add(d) for n, d in project_counters.items() if d]
    if project_actions:
        ProjectModel(project_id).update(actions=project_actions)
