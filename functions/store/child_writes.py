"""Writing "a child changed, and the counters of its task with it".

Two writes in a fixed order rather than one TransactWriteItems call: the task update goes first (atomic
ADDs, so concurrent submits never conflict and none is lost), and the child is written only after it; if
the child write fails the task update is undone. So the stream never sees a child that was rolled back,
and no counter counts a child that is not stored. The caller then settles `is_labeled` and the project
counters from the values the task update returned (see `tasks.settle_labeled`).

Why not TransactWriteItems on DynamoDB: a transaction returns no values, so settling `is_labeled` would
cost a consistent read after it; it costs twice the write capacity; and two transactions touching one
task conflict (TransactionConflict) where two ADDs do not, so annotators sharing a task (overlap > 1)
would retry each other's submits. What the ordered writes can leave behind is a task counted for a child
whose write failed and whose undo failed too: two failures of DynamoDB in a row on one request.
On the sqlite engine the caller wraps both writes in one transaction (`atomic.py`).
"""

from __future__ import annotations

from functions.store.errors import conflict_on_condition
from functions.store.models import TaskModel
from functions.store.tasks import child_actions


def write_child(
    *,
    kind: str,
    child_id: int,
    added: bool,
    task_id: int,
    task_counters: dict[str, int],
    task_extra: list | None = None,
    task_condition=None,
    save=None,
    save_condition=None,
    delete=None,
) -> TaskModel:
    """Add (`save`) or remove (`delete`) one annotation or prediction; return the task as updated.

    `task_extra` are further update actions on the task (annotators, leases, scores); they are not
    undone if the child write fails, because each of them is safe to keep (see the callers).
    """
    condition = TaskModel.id.exists() if task_condition is None else (TaskModel.id.exists() & task_condition)
    task = TaskModel(task_id)
    with conflict_on_condition("The task changed or is gone; reload it and try again."):
        task.update(
            actions=child_actions(kind, child_id, task_counters, added=added) + list(task_extra or ()),
            condition=condition,
        )
    try:
        with conflict_on_condition("The object changed while this request ran; try again."):
            if save is not None:
                save.save(condition=save_condition)
            if delete is not None:
                delete.delete()
    except Exception:
        undo_counters = {name: -delta for name, delta in task_counters.items()}
        TaskModel(task_id).update(actions=child_actions(kind, child_id, undo_counters, added=not added))
        raise
    return task
