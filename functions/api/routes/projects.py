"""/api/projects: projects, their label config validation and their members."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from functions.api.auth import current_user
from functions.api.bodies import int_param, json_body
from functions.api.versions import etag, stated_version
from functions.domain.errors import ValidationFailed
from functions.domain.label_config import parse_label_config
from functions.domain.ls_json import project_json, user_json
from functions.domain.records import Project, User
from functions.services import projects as project_service
from functions.store import users as user_store

router = APIRouter()


def _project_body(project: Project) -> dict:
    created_by = user_store.batch_get([project.created_by]).get(project.created_by)
    return project_json(project, project_service.config_of(project).parsed, created_by)


@router.get("/api/projects")
def list_projects(request: Request, user: User = Depends(current_user)):
    page = int_param(request.query_params.get("page"), "page", 1)
    page_size = max(1, min(int_param(request.query_params.get("page_size"), "page_size", 100), 10_000))
    total, projects = project_service.list_projects(user, page, page_size)
    base = str(request.url.remove_query_params(["page"]))
    has_next = page * page_size < total
    return {
        "count": total,
        "next": f"{base}{'&' if '?' in base else '?'}page={page + 1}" if has_next else None,
        "previous": f"{base}{'&' if '?' in base else '?'}page={page - 1}" if page > 1 else None,
        "results": [_project_body(p) for p in projects],
    }


@router.post("/api/projects", status_code=201)
async def create_project(request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    project = await run_in_threadpool(project_service.create_project, user, body)
    return await run_in_threadpool(_project_body, project)


@router.post("/api/projects/validate")
async def validate_new_config(request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    config = parse_label_config(body.get("label_config") or "")
    return {"parsed_label_config": config.parsed, "data_keys": list(config.data_keys)}


@router.get("/api/projects/{project_id}")
def get_project(project_id: int, response: Response, user: User = Depends(current_user)):
    project = project_service.get_project(user, project_id)
    response.headers["ETag"] = etag(project.version)
    return _project_body(project)


@router.patch("/api/projects/{project_id}")
async def update_project(
    project_id: int, request: Request, response: Response, user: User = Depends(current_user)
):
    body = await json_body(request)
    version = stated_version(body, request.headers.get("If-Match"))
    project = await run_in_threadpool(project_service.update_project, user, project_id, body, version)
    response.headers["ETag"] = etag(project.version)
    return await run_in_threadpool(_project_body, project)


@router.delete("/api/projects/{project_id}", status_code=204)
def delete_project(project_id: int, user: User = Depends(current_user)):
    project_service.delete_project(user, project_id)
    return Response(status_code=204)


@router.post("/api/projects/{project_id}/validate")
async def validate_config(project_id: int, request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    await run_in_threadpool(project_service.get_project, user, project_id)
    config = parse_label_config(body.get("label_config") or "")
    return {"parsed_label_config": config.parsed, "data_keys": list(config.data_keys)}


@router.get("/api/projects/{project_id}/members")
def list_members(project_id: int, user: User = Depends(current_user)):
    return [{"user": user_json(m)} for m in project_service.members(user, project_id)]


@router.post("/api/projects/{project_id}/members", status_code=201)
async def add_member(project_id: int, request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    member_id = int_param(str(body.get("user", "")), "user")
    if member_id is None:
        raise ValidationFailed.field("user", "This field is required.")
    member = await run_in_threadpool(project_service.add_member, user, project_id, member_id)
    return {"user": user_json(member)}


@router.delete("/api/projects/{project_id}/members/{member_id}", status_code=204)
def remove_member(project_id: int, member_id: int, user: User = Depends(current_user)):
    project_service.remove_member(user, project_id, member_id)
    return Response(status_code=204)
