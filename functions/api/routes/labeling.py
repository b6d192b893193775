"""The label stream (/api/projects/{id}/next), reviews of annotations and agreement between annotators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from functions.api.auth import CurrentUser
from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import COMMON_ERRORS, ObjectId, error_responses
from functions.api.schemas.labeling import ProjectAgreement, Review, ReviewRequest, TaskAgreement
from functions.api.schemas.tasks import NextTask
from functions.domain.ls_json import iso, task_detail_json
from functions.domain.records import Annotation
from functions.services import agreement, label_stream, reviews

router = APIRouter(route_class=LabelStudioRoute, responses=COMMON_ERRORS)


@router.get("/api/projects/{project_id}/next", response_model=NextTask, tags=["Label stream"])
def next_task(project_id: ObjectId, user: CurrentUser):
    """The next task for the caller to label, in the project's sampling order, held for them a while;
    404 when none is left."""
    found = label_stream.next_task(user, project_id)
    view = found.view
    body = task_detail_json(view.task, view.annotations, view.predictions, view.users)
    return {**body, "unique_lock_id": found.lock_id, "queue": found.queue}


def _review_json(annotation: Annotation) -> dict:
    return {
        # One review per annotation is kept, so the annotation's id identifies it.
        "id": annotation.id,
        "annotation": annotation.id,
        "accepted": annotation.review_status == "accepted",
        "created_by": annotation.reviewed_by,
        "created_at": iso(annotation.reviewed_at),
        "comment": annotation.review_comment,
    }


@router.post(
    "/api/annotation-reviews",
    status_code=201,
    response_model=Review,
    tags=["Reviews"],
    responses=error_responses(409, 413),
)
async def create_review(body: ReviewRequest, user: CurrentUser):
    """Accept or reject an annotation (reviewers, managers, admins); it keeps its latest review."""
    return _review_json(await run_in_threadpool(reviews.review, user, body.sent()))


@router.get("/api/annotation-reviews", response_model=list[Review], tags=["Reviews"])
def list_reviews(
    user: CurrentUser, annotation: Annotated[ObjectId, Query(description="The annotation reviewed.")]
):
    """An annotation's review, if it has one."""
    return [_review_json(a) for a in reviews.reviews_of(user, annotation)]


@router.get("/api/tasks/{task_id}/agreement", response_model=TaskAgreement, tags=["Agreement"])
def task_agreement(task_id: ObjectId, user: CurrentUser):
    """How much a task's annotators agree."""
    return agreement.for_task(user, task_id)


@router.get("/api/projects/{project_id}/agreement", response_model=ProjectAgreement, tags=["Agreement"])
def project_agreement(project_id: ObjectId, user: CurrentUser):
    """How much annotators agree, summarised over a project's tasks with two or more annotations."""
    return agreement.for_project(user, project_id)
