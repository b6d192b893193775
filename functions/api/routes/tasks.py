"""/api/tasks, /api/annotations, /api/predictions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from starlette.concurrency import run_in_threadpool

from functions.api.auth import CurrentUser
from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import COMMON_ERRORS, ObjectId, QueryFlag, QueryInt, error_responses
from functions.api.schemas.labeling import (
    Annotation,
    AnnotationRequest,
    PatchedAnnotationRequest,
    PatchedPredictionRequest,
    Prediction,
    PredictionRequest,
)
from functions.api.schemas.tasks import (
    PatchedTaskRequest,
    Task,
    TaskDetail,
    TaskPage,
    TaskRequest,
    UpdatedTask,
)
from functions.api.versions import etag, stated_version
from functions.domain.drafts import draft_json
from functions.domain.ls_json import (
    annotation_json,
    author,
    prediction_json,
    task_detail_json,
    task_json,
    task_list_item_json,
)
from functions.domain.task_query import parse_task_query
from functions.services import access, data_manager, dm_views, drafts
from functions.services import annotations as annotation_service
from functions.services import predictions as prediction_service
from functions.services import tasks as task_service
from functions.services.tasks import TaskView
from functions.store import users as user_store

router = APIRouter(route_class=LabelStudioRoute, responses=COMMON_ERRORS)
_WITH_BODY = error_responses(413)
_CHANGE = error_responses(409, 413)


def _detail(view: TaskView, *, list_fields: bool = False) -> dict:
    return task_detail_json(
        view.task, view.annotations, view.predictions, view.users, list_fields=list_fields
    )


@router.get("/api/tasks", response_model=TaskPage, tags=["Tasks"])
def list_tasks(
    user: CurrentUser,
    project: Annotated[ObjectId, Query(description="The project whose tasks to list.")],
    page: Annotated[QueryInt, Query(description="The page, from 1.")] = 1,
    page_size: Annotated[QueryInt, Query(description="Tasks a page, 1 to 1,000.")] = 100,
    fields: Annotated[
        str | None, Query(description="`all`: each task with its annotations and predictions.")
    ] = None,
    query: Annotated[
        str | None,
        Query(
            description="The Data Manager's query as JSON: "
            '`{"filters": {"conjunction", "items"}, "ordering": [...], "selectedItems": {...}}`.'
        ),
    ] = None,
    view: Annotated[
        QueryInt | None,
        Query(description="A Data Manager view of the project: its filters, ordering and selection."),
    ] = None,
):
    """A page of a project's tasks, in order, or those a Data Manager query (or view) selects."""
    with_children = fields == "all"
    if view:
        task_query = dm_views.scope(user, access.project_for(user, project), None, view)
    else:
        task_query = parse_task_query(query)
    if task_query.is_default:
        found_project, tasks = task_service.list_tasks(
            user, project, page, page_size, with_children=with_children
        )
        total = found_project.task_number
    else:
        found_project, total, tasks = data_manager.filtered_page(user, project, task_query, page, page_size)
        if with_children:
            tasks = task_service.views(tasks)
    return {
        "total_annotations": found_project.total_annotations_number,
        "total_predictions": found_project.total_predictions_number,
        "total": total,
        # Views when the fields were asked for (`fields=all`), bare tasks otherwise.
        "tasks": [
            _detail(t, list_fields=True) if isinstance(t, TaskView) else task_list_item_json(t) for t in tasks
        ],
    }


@router.post("/api/tasks", status_code=201, response_model=Task, tags=["Tasks"], responses=_WITH_BODY)
async def create_task(body: TaskRequest, user: CurrentUser):
    """Create one task (managers); imports create many at once."""
    task = await run_in_threadpool(task_service.create_task, user, body.project, body.data, body.meta)
    return task_json(task)


@router.get("/api/tasks/{task_id}", response_model=TaskDetail, tags=["Tasks"])
def get_task(task_id: ObjectId, user: CurrentUser, response: Response):
    """A task with its annotations and predictions; its version is the ETag."""
    view = task_service.get_task(user, task_id)
    response.headers["ETag"] = etag(view.task.version)
    # The caller's drafts come back with the task, as Label Studio gives them.
    mine = drafts.mine(user, view.task)
    authors = drafts.authors(mine)
    return {**_detail(view), "drafts": [draft_json(d, authors.get(d.user_id)) for d in mine]}


@router.patch("/api/tasks/{task_id}", response_model=UpdatedTask, tags=["Tasks"], responses=_CHANGE)
async def update_task(
    task_id: ObjectId,
    body: PatchedTaskRequest,
    user: CurrentUser,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
):
    """Replace a task's data or meta (managers). A stated version (`version`, or If-Match with the
    ETag) that is stale is a 409."""
    version = stated_version(body.sent(), if_match)
    view = await run_in_threadpool(task_service.update_task, user, task_id, body.data, body.meta, version)
    response.headers["ETag"] = etag(view.task.version)
    return {
        **task_json(view.task),
        "annotations": [annotation_json(a, author(a, view.users)) for a in view.annotations],
        "predictions": [prediction_json(p) for p in view.predictions],
    }


@router.delete("/api/tasks/{task_id}", status_code=204, tags=["Tasks"])
def delete_task(task_id: ObjectId, user: CurrentUser):
    """Delete a task with its annotations and predictions (managers)."""
    task_service.delete_task(user, task_id)
    return Response(status_code=204)


@router.get("/api/tasks/{task_id}/annotations", response_model=list[Annotation], tags=["Annotations"])
def list_annotations(task_id: ObjectId, user: CurrentUser):
    """A task's annotations."""
    annotations, users = annotation_service.list_for_task(user, task_id)
    return [annotation_json(a, author(a, users)) for a in annotations]


@router.post(
    "/api/tasks/{task_id}/annotations",
    status_code=201,
    response_model=Annotation,
    tags=["Annotations"],
    responses=_CHANGE,
)
async def create_annotation(
    task_id: ObjectId,
    body: AnnotationRequest,
    user: CurrentUser,
    was_cancelled: Annotated[
        QueryFlag, Query(description="A skip (as the body's was_cancelled: true).")
    ] = False,
):
    """Annotate a task as the caller; `was_cancelled` makes it a skip."""
    fields = body.sent()
    if was_cancelled:
        fields["was_cancelled"] = True
    # A handful of point reads and writes: on the event loop, as `/next` (see `CurrentUser`).
    annotation = annotation_service.create(user, task_id, fields)
    return annotation_json(annotation, user)


@router.get("/api/annotations/{annotation_id}", response_model=Annotation, tags=["Annotations"])
def get_annotation(annotation_id: ObjectId, user: CurrentUser, response: Response):
    """An annotation; its version is the ETag."""
    annotation, _ = annotation_service.annotation_for(user, annotation_id)
    users = user_store.batch_get([annotation.completed_by])
    response.headers["ETag"] = etag(annotation.version)
    return annotation_json(annotation, author(annotation, users))


@router.patch(
    "/api/annotations/{annotation_id}", response_model=Annotation, tags=["Annotations"], responses=_CHANGE
)
async def update_annotation(
    annotation_id: ObjectId,
    body: PatchedAnnotationRequest,
    user: CurrentUser,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
):
    """Change an annotation (annotators only their own). Send the `version` read (or If-Match with the
    ETag), to get a 409 rather than overwrite someone else's change."""
    fields = body.sent()
    version = stated_version(fields, if_match)
    fields.pop("version", None)
    annotation = await run_in_threadpool(annotation_service.update, user, annotation_id, fields, version)
    users = await run_in_threadpool(user_store.batch_get, [annotation.completed_by])
    response.headers["ETag"] = etag(annotation.version)
    return annotation_json(annotation, author(annotation, users))


@router.delete("/api/annotations/{annotation_id}", status_code=204, tags=["Annotations"])
def delete_annotation(annotation_id: ObjectId, user: CurrentUser):
    """Delete an annotation (annotators only their own)."""
    annotation_service.delete(user, annotation_id)
    return Response(status_code=204)


@router.get("/api/predictions", response_model=list[Prediction], tags=["Predictions"])
def list_predictions(
    user: CurrentUser,
    task: Annotated[QueryInt | None, Query(description="A task's predictions.")] = None,
    project: Annotated[
        QueryInt | None, Query(description="A project's predictions (up to 10,000; else list by task).")
    ] = None,
):
    """The predictions of a task, or of a project."""
    return [prediction_json(p) for p in prediction_service.list_predictions(user, task, project)]


@router.post(
    "/api/predictions", status_code=201, response_model=Prediction, tags=["Predictions"], responses=_CHANGE
)
async def create_prediction(body: PredictionRequest, user: CurrentUser):
    """Attach a prediction to a task (managers)."""
    return prediction_json(await run_in_threadpool(prediction_service.create, user, body.sent()))


@router.get("/api/predictions/{prediction_id}", response_model=Prediction, tags=["Predictions"])
def get_prediction(prediction_id: ObjectId, user: CurrentUser):
    """A prediction."""
    prediction, _ = prediction_service.prediction_for(user, prediction_id)
    return prediction_json(prediction)


@router.patch(
    "/api/predictions/{prediction_id}", response_model=Prediction, tags=["Predictions"], responses=_CHANGE
)
async def update_prediction(prediction_id: ObjectId, body: PatchedPredictionRequest, user: CurrentUser):
    """Change a prediction's result, score or model version (managers)."""
    return prediction_json(
        await run_in_threadpool(prediction_service.update, user, prediction_id, body.sent())
    )


@router.delete("/api/predictions/{prediction_id}", status_code=204, tags=["Predictions"])
def delete_prediction(prediction_id: ObjectId, user: CurrentUser):
    """Delete a prediction (managers)."""
    prediction_service.delete(user, prediction_id)
    return Response(status_code=204)
