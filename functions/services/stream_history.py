"""The label stream's history per user and project (`/api/projects/{id}/label-stream-history`): the tasks
`/next` handed out, oldest first, each with the annotation its user gave it. The web UI's Back and
Forward walk it; a reload keeps it, since it is stored.
"""

from __future__ import annotations

from functions.domain import stream_history
from functions.domain.records import User
from functions.services import access
from functions.store import annotations as annotation_store
from functions.store import stream_history as history_store
from functions.store import tasks as task_store


def handed_out(project_id: int, user_id: int, task_id: int) -> None:
    history_store.change(project_id, user_id, lambda e: stream_history.with_task(e, task_id))


def answered(project_id: int, user_id: int, task_id: int, annotation_id: int) -> None:
    history_store.change(
        project_id, user_id, lambda e: stream_history.with_annotation(e, task_id, annotation_id)
    )


def history(user: User, project_id: int) -> list[dict]:
    """The caller's history in the project, without the tasks deleted since (and with the annotations
    deleted since as none), as Label Studio answers it."""
    project = access.project_for(user, project_id)
    entries = history_store.entries(project.id, user.id)
    if not entries:
        return []
    tasks = task_store.batch_get([e["taskId"] for e in entries])
    annotations = annotation_store.batch_get([e["annotationId"] for e in entries if e["annotationId"]])
    return stream_history.existing(
        entries,
        {t.id for t in tasks if t.project_id == project.id},
        {a.id for a in annotations if a.completed_by == user.id},
    )
