"""The label stream (/api/projects/{id}/next) and reviews of annotations."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from functions.api.auth import current_user
from functions.domain.ls_json import task_detail_json
from functions.domain.records import User
from functions.services import label_stream

router = APIRouter()


@router.get("/api/projects/{project_id}/next")
def next_task(project_id: int, user: User = Depends(current_user)):
    found = label_stream.next_task(user, project_id)
    view = found.view
    body = task_detail_json(view.task, view.annotations, view.predictions, view.users)
    return {**body, "unique_lock_id": found.lock_id, "queue": found.queue}
