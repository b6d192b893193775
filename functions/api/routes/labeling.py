"""The label stream (/api/projects/{id}/next), reviews of annotations and agreement between annotators."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from functions.api.auth import current_user
from functions.api.bodies import json_body, required_int_param
from functions.domain.ls_json import iso, task_detail_json
from functions.domain.records import Annotation, User
from functions.services import agreement, label_stream, reviews

router = APIRouter()


@router.get("/api/projects/{project_id}/next")
def next_task(project_id: int, user: User = Depends(current_user)):
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


@router.post("/api/annotation-reviews", status_code=201)
async def create_review(request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    return _review_json(await run_in_threadpool(reviews.review, user, body))


@router.get("/api/annotation-reviews")
def list_reviews(request: Request, user: User = Depends(current_user)):
    annotation_id = required_int_param(request.query_params.get("annotation"), "annotation")
    return [_review_json(a) for a in reviews.reviews_of(user, annotation_id)]


@router.get("/api/tasks/{task_id}/agreement")
def task_agreement(task_id: int, user: User = Depends(current_user)):
    return agreement.for_task(user, task_id)


@router.get("/api/projects/{project_id}/agreement")
def project_agreement(project_id: int, user: User = Depends(current_user)):
    return agreement.for_project(user, project_id)
