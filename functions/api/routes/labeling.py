"""The label stream (/api/projects/{id}/next, its history and progress), reviews of annotations and
agreement between annotators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from functions.api.auth import CurrentUser
from functions.api.backend_calls import call_backends
from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import COMMON_ERRORS, ObjectId, QueryInt, error_responses
from functions.api.schemas.labeling import (
    ProjectAgreement,
    Review,
    ReviewRequest,
    StreamHistoryEntry,
    StreamProgress,
    TaskAgreement,
)
from functions.api.schemas.tasks import NextTask
from functions.domain.drafts import draft_json
from functions.domain.ls_json import iso, task_detail_json
from functions.domain.records import Annotation
from functions.services import access, agreement, dm_views, drafts, label_stream, reviews, stream_history

router = APIRouter(route_class=LabelStudioRoute, responses=COMMON_ERRORS)


ViewParam = Annotated[
    QueryInt | None, Query(description="A Data Manager view of the project: only its tasks, in its order.")
]
QueryParam = Annotated[
    str | None,
    Query(
        description='A Data Manager query as JSON (`{"filters", "ordering", "selectedItems"}`): only '
        "the tasks it selects, in its order."
    ),
]


def next_task_body(found: label_stream.NextTask) -> dict:
    """Label Studio's next-task answer: the task with the caller's annotations and drafts, the lock."""
    view = found.view
    body = task_detail_json(view.task, view.annotations, view.predictions, view.users)
    users = drafts.authors(found.drafts)
    body["drafts"] = [draft_json(d, users.get(d.user_id)) for d in found.drafts]
    return {**body, "unique_lock_id": found.lock_id, "queue": found.queue}


def _scope(user, project_id: int, query: str | None, view: int | None):
    if not query and not view:
        return None
    return dm_views.scope(user, access.project_for(user, project_id), query, view)


@router.get("/api/projects/{project_id}/next", response_model=NextTask, tags=["Label stream"])
async def next_task(
    project_id: ObjectId, user: CurrentUser, view: ViewParam = None, query: QueryParam = None
):
    """The next task for the caller to label, in the project's sampling order (among a view's or a
    query's tasks, when one is given), held for them a while; 404 when none is left."""
    if view or query:  # reads the view's tasks: as many as the project has
        found = await run_in_threadpool(
            lambda: label_stream.next_task(user, project_id, scope=_scope(user, project_id, query, view))
        )
    else:
        # A handful of point reads and conditional writes: on the event loop (see `CurrentUser`); only
        # asking a connected model for the task's prediction waits, on the backend-call threads.
        found = label_stream.next_task(user, project_id, ask_model=False)
        if not found.prelabeled:
            found = await call_backends(label_stream.prelabel, found)
    return next_task_body(found)


@router.get(
    "/api/projects/{project_id}/label-stream-history",
    response_model=list[StreamHistoryEntry],
    tags=["Label stream"],
)
def label_stream_history(project_id: ObjectId, user: CurrentUser):
    """The tasks the label stream gave the caller, oldest first, each with the annotation they gave it
    (at most the latest 100): what Back and Forward go through."""
    return stream_history.history(user, project_id)


@router.get(
    "/api/projects/{project_id}/label-stream-progress", response_model=StreamProgress, tags=["Label stream"]
)
def label_stream_progress(
    project_id: ObjectId, user: CurrentUser, view: ViewParam = None, query: QueryParam = None
):
    """How far the caller is: Label Studio's `queue_done` and `queue_total`, counted for the caller over
    the project's tasks (or a view's). Reads every task of the project: ask once per stream."""
    done, total = label_stream.stream_progress(user, project_id, _scope(user, project_id, query, view))
    return {"queue_done": done, "queue_total": total}


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
