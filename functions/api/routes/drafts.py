"""Annotation drafts (Label Studio's `/api/tasks/{id}/drafts`, `/api/tasks/{id}/annotations/{id}/drafts`
and `/api/drafts/{id}`): work in progress saved while labeling, given back with the task."""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from functions.api.auth import CurrentUser
from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import COMMON_ERRORS, ObjectId, error_responses
from functions.api.schemas.drafts import Draft, DraftRequest
from functions.domain.drafts import Draft as DraftRecord
from functions.domain.drafts import draft_json
from functions.services import drafts

router = APIRouter(route_class=LabelStudioRoute, tags=["Annotations"], responses=COMMON_ERRORS)
_WITH_BODY = error_responses(409, 413)


def _json(found: list[DraftRecord]) -> list[dict]:
    users = drafts.authors(found)
    return [draft_json(d, users.get(d.user_id)) for d in found]


@router.get("/api/tasks/{task_id}/drafts", response_model=list[Draft])
def list_task_drafts(task_id: ObjectId, user: CurrentUser):
    """A task's drafts (an annotator sees their own)."""
    return _json(drafts.list_for_task(user, task_id))


@router.post("/api/tasks/{task_id}/drafts", status_code=201, response_model=Draft, responses=_WITH_BODY)
async def create_task_draft(task_id: ObjectId, body: DraftRequest, user: CurrentUser):
    """Save the caller's work in progress on a task."""
    draft = await run_in_threadpool(drafts.create, user, task_id, body.sent())
    return _json([draft])[0]


@router.get("/api/tasks/{task_id}/annotations/{annotation_id}/drafts", response_model=list[Draft])
def list_annotation_drafts(task_id: ObjectId, annotation_id: ObjectId, user: CurrentUser):
    """The drafts that change one of a task's annotations."""
    return _json(drafts.list_for_task(user, task_id, annotation_id))


@router.post(
    "/api/tasks/{task_id}/annotations/{annotation_id}/drafts",
    status_code=201,
    response_model=Draft,
    responses=_WITH_BODY,
)
async def create_annotation_draft(
    task_id: ObjectId, annotation_id: ObjectId, body: DraftRequest, user: CurrentUser
):
    """Save the caller's unsubmitted changes to one of a task's annotations."""
    draft = await run_in_threadpool(drafts.create, user, task_id, body.sent(), annotation_id)
    return _json([draft])[0]


@router.get("/api/drafts/{draft_id}", response_model=Draft)
def get_draft(draft_id: ObjectId, user: CurrentUser):
    """A draft."""
    draft, _ = drafts.draft_for(user, draft_id)
    return _json([draft])[0]


@router.put("/api/drafts/{draft_id}", response_model=Draft, responses=_WITH_BODY)
@router.patch("/api/drafts/{draft_id}", response_model=Draft, responses=_WITH_BODY)
async def update_draft(draft_id: ObjectId, body: DraftRequest, user: CurrentUser):
    """Change the caller's draft: the fields sent replace theirs."""
    return _json([await run_in_threadpool(drafts.update, user, draft_id, body.sent())])[0]


@router.delete("/api/drafts/{draft_id}", status_code=204)
def delete_draft(draft_id: ObjectId, user: CurrentUser):
    """Delete a draft (its author, or a manager)."""
    drafts.delete(user, draft_id)
    return Response(status_code=204)
