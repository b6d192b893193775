"""One transaction for "a child changed, and the counters of its task and project with it".

Creating or deleting an annotation or prediction touches three items; a TransactWriteItems call keeps them
consistent (no counter drifts if the request dies half-way) and costs one call.
"""

from __future__ import annotations

from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from functions.settings import get_settings
from functions.store.errors import conflict_on_condition
from functions.store.models import ProjectModel, TaskModel


def _connection() -> Connection:
    settings = get_settings()
    return Connection(region=settings.region, host=settings.aws_endpoint_url)


def write_child(*, save=None, save_condition=None, delete=None, task_id: int, task_actions: list,
                task_condition=None, project_id: int, project_counters: dict[str, int]) -> None:
    project_actions = [getattr(ProjectModel, n).add(d) for n, d in project_counters.items() if d]
    condition = TaskModel.id.exists() if task_condition is None else (TaskModel.id.exists() & task_condition)
    with conflict_on_condition("The task changed while this request ran; try again."):
        with TransactWrite(connection=_connection()) as tx:
            if save is not None:
                tx.save(save, condition=save_condition)
            if delete is not None:
                tx.delete(delete)
            tx.update(TaskModel(task_id), actions=task_actions, condition=condition)
            if project_actions:
                tx.update(ProjectModel(project_id), actions=project_actions)
