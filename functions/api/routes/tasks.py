"""/api/tasks, /api/annotations, /api/predictions."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from functions.api.auth import current_user
from functions.api.bodies import flag, int_param, json_body, required_int_param
from functions.api.versions import etag, stated_version
from functions.domain.errors import ValidationFailed
from functions.domain.ls_json import (
    annotation_json,
    author,
    prediction_json,
    task_detail_json,
    task_json,
    task_list_item_json,
)
from functions.domain.records import User
from functions.domain.task_query import parse_task_query
from functions.services import annotations as annotation_service
from functions.services import data_manager
from functions.services import predictions as prediction_service
from functions.services import tasks as task_service
from functions.services.tasks import TaskView
from functions.store import users as user_store

router = APIRouter()


def _detail(view: TaskView, *, list_fields: bool = False) -> dict:
    return task_detail_json(
        view.task, view.annotations, view.predictions, view.users, list_fields=list_fields
    )


@router.get("/api/tasks")
def list_tasks(request: Request, user: User = Depends(current_user)):
    q = request.query_params
    project_id = required_int_param(q.get("project"), "project")
    page = int_param(q.get("page"), "page", 1)
    page_size = int_param(q.get("page_size"), "page_size", 100)
    with_children = q.get("fields") == "all"
    query = parse_task_query(q.get("query"))
    if query.is_default:
        project, tasks = task_service.list_tasks(
            user, project_id, page, page_size, with_children=with_children
        )
        total = project.task_number
    else:
        project, total, tasks = data_manager.filtered_page(user, project_id, query, page, page_size)
        if with_children:
            tasks = task_service.views(tasks)
    return {
        "total_annotations": project.total_annotations_number,
        "total_predictions": project.total_predictions_number,
        "total": total,
        # Views when the fields were asked for (`fields=all`), bare tasks otherwise.
        "tasks": [
            _detail(t, list_fields=True) if isinstance(t, TaskView) else task_list_item_json(t) for t in tasks
        ],
    }


@router.post("/api/tasks", status_code=201)
async def create_task(request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    project_id = body.get("project")
    if not isinstance(project_id, int) or isinstance(project_id, bool):
        raise ValidationFailed.field("project", "This field is required and must be a project id.")
    if not isinstance(body.get("data"), dict):
        raise ValidationFailed.field("data", "This field is required and must be a JSON object.")
    task = await run_in_threadpool(task_service.create_task, user, project_id, body["data"], body.get("meta"))
    return task_json(task)


@router.get("/api/tasks/{task_id}")
def get_task(task_id: int, response: Response, user: User = Depends(current_user)):
    view = task_service.get_task(user, task_id)
    response.headers["ETag"] = etag(view.task.version)
    return _detail(view)


@router.patch("/api/tasks/{task_id}")
async def update_task(task_id: int, request: Request, response: Response, user: User = Depends(current_user)):
    body = await json_body(request)
    version = stated_version(body, request.headers.get("If-Match"))
    view = await run_in_threadpool(
        task_service.update_task, user, task_id, body.get("data"), body.get("meta"), version
    )
    response.headers["ETag"] = etag(view.task.version)
    return {
        **task_json(view.task),
        "annotations": [annotation_json(a, author(a, view.users)) for a in view.annotations],
        "predictions": [prediction_json(p) for p in view.predictions],
    }


@router.delete("/api/tasks/{task_id}", status_code=204)
def delete_task(task_id: int, user: User = Depends(current_user)):
    task_service.delete_task(user, task_id)
    return Response(status_code=204)


@router.get("/api/tasks/{task_id}/annotations")
def list_annotations(task_id: int, user: User = Depends(current_user)):
    annotations, users = annotation_service.list_for_task(user, task_id)
    return [annotation_json(a, author(a, users)) for a in annotations]


@router.post("/api/tasks/{task_id}/annotations", status_code=201)
async def create_annotation(task_id: int, request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    if flag(request.query_params.get("was_cancelled")):
        body["was_cancelled"] = True
    annotation = await run_in_threadpool(annotation_service.create, user, task_id, body)
    return annotation_json(annotation, user)


@router.get("/api/annotations/{annotation_id}")
def get_annotation(annotation_id: int, response: Response, user: User = Depends(current_user)):
    annotation, _ = annotation_service.annotation_for(user, annotation_id)
    users = user_store.batch_get([annotation.completed_by])
    response.headers["ETag"] = etag(annotation.version)
    return annotation_json(annotation, author(annotation, users))


@router.patch("/api/annotations/{annotation_id}")
async def update_annotation(
    annotation_id: int, request: Request, response: Response, user: User = Depends(current_user)
):
    body = await json_body(request)
    version = stated_version(body, request.headers.get("If-Match"))
    annotation = await run_in_threadpool(annotation_service.update, user, annotation_id, body, version)
    users = await run_in_threadpool(user_store.batch_get, [annotation.completed_by])
    response.headers["ETag"] = etag(annotation.version)
    return annotation_json(annotation, author(annotation, users))


@router.delete("/api/annotations/{annotation_id}", status_code=204)
def delete_annotation(annotation_id: int, user: User = Depends(current_user)):
    annotation_service.delete(user, annotation_id)
    return Response(status_code=204)


@router.get("/api/predictions")
def list_predictions(request: Request, user: User = Depends(current_user)):
    task_id = int_param(request.query_params.get("task"), "task")
    project_id = int_param(request.query_params.get("project"), "project")
    return [prediction_json(p) for p in prediction_service.list_predictions(user, task_id, project_id)]


@router.post("/api/predictions", status_code=201)
async def create_prediction(request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    return prediction_json(await run_in_threadpool(prediction_service.create, user, body))


@router.get("/api/predictions/{prediction_id}")
def get_prediction(prediction_id: int, user: User = Depends(current_user)):
    prediction, _ = prediction_service.prediction_for(user, prediction_id)
    return prediction_json(prediction)


@router.patch("/api/predictions/{prediction_id}")
async def update_prediction(prediction_id: int, request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    return prediction_json(await run_in_threadpool(prediction_service.update, user, prediction_id, body))


@router.delete("/api/predictions/{prediction_id}", status_code=204)
def delete_prediction(prediction_id: int, user: User = Depends(current_user)):
    prediction_service.delete(user, prediction_id)
    return Response(status_code=204)
