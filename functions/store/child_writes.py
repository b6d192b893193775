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
from functions.store.projects import counter_actions
from functions.store.tasks import child_actions


def write_child(*, kind: str, child_id: int, added: bool, save=None, save_condition=None, delete=None,
                task_id: int, task_counters: dict[str, int], task_is_labeled: bool | None,
                task_condition=None, project_id: int, project_counters: dict[str, int]) -> None:
    """Add (`save`) or remove (`delete`) one annotation or prediction and update the counters.

    `task_is_labeled` is given only when it changes, so undoing it is setting its opposite.
    """
    condition = TaskModel.id.exists() if task_condition is None else (TaskModel.id.exists() & task_condition)
    with conflict_on_condition("The task changed while this request ran; try again."):
        TaskModel(task_id).update(actions=child_actions(kind, child_id, task_counters, task_is_labeled,
                                                        added=added), condition=condition)
    try:
        with conflict_on_condition("The object changed while this request ran; try again."):
            if save is not None:
                save.save(condition=save_condition)
            if delete is not None:
                delete.delete()
    except Exception:
        undo_counters = {name: -delta for name, delta in task_counters.items()}
        undo_labeled = None if task_is_labeled is None else not task_is_labeled
        TaskModel(task_id).update(actions=child_actions(kind, child_id, undo_counters, undo_labeled,
                                                        added=not added))
        raise
    project_actions = counter_actions(**project_counters)
    if project_actions:
        ProjectModel(project_id).update(actions=project_actions)
