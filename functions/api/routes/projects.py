"""/api/projects: projects, their label config validation and their members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from functions.api.auth import CurrentUser
from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import COMMON_ERRORS, ObjectId, Page, QueryFlag, QueryInt, error_responses
from functions.api.schemas.projects import (
    ExtendedModelVersions,
    LabelConfigCheck,
    LabelConfigRequest,
    MemberRequest,
    PatchedProjectRequest,
    Project,
    ProjectMember,
    ProjectRequest,
)
from functions.api.versions import etag, stated_version
from functions.domain import records
from functions.domain.label_config import parse_label_config
from functions.domain.ls_json import project_json, user_json
from functions.services import model_versions as model_version_service
from functions.services import projects as project_service
from functions.store import users as user_store

router = APIRouter(route_class=LabelStudioRoute, tags=["Projects"], responses=COMMON_ERRORS)
_WITH_BODY = error_responses(409, 413)


def _project_body(project: records.Project) -> dict:
    created_by = user_store.batch_get([project.created_by]).get(project.created_by)
    return project_json(project, project_service.config_of(project).parsed, created_by)


@router.get("/api/projects", response_model=Page[Project])
def list_projects(
    request: Request,
    user: CurrentUser,
    page: Annotated[QueryInt, Query(description="The page, from 1.")] = 1,
    page_size: Annotated[QueryInt, Query(description="Projects a page (1 to 10,000).")] = 100,
):
    """The projects the caller can see, newest first, a page at a time."""
    page_size = max(1, min(page_size, 10_000))
    total, projects = project_service.list_projects(user, page, page_size)
    base = str(request.url.remove_query_params(["page"]))
    has_next = page * page_size < total
    return {
        "count": total,
        "next": f"{base}{'&' if '?' in base else '?'}page={page + 1}" if has_next else None,
        "previous": f"{base}{'&' if '?' in base else '?'}page={page - 1}" if page > 1 else None,
        "results": [_project_body(p) for p in projects],
    }


@router.post("/api/projects", status_code=201, response_model=Project, responses=_WITH_BODY)
async def create_project(body: ProjectRequest, user: CurrentUser):
    """Create a project (admins and managers); the caller becomes its first member."""
    project = await run_in_threadpool(project_service.create_project, user, body.sent())
    return await run_in_threadpool(_project_body, project)


@router.post("/api/projects/validate", response_model=LabelConfigCheck, responses=_WITH_BODY)
async def validate_new_config(body: LabelConfigRequest, user: CurrentUser):
    """Check a label config before creating a project with it."""
    config = parse_label_config(body.label_config or "")
    return {"parsed_label_config": config.parsed, "data_keys": list(config.data_keys)}


@router.get("/api/projects/{project_id}", response_model=Project)
def get_project(project_id: ObjectId, user: CurrentUser, response: Response):
    """A project, with its counters; its version is the ETag."""
    project = project_service.get_project(user, project_id)
    response.headers["ETag"] = etag(project.version)
    return _project_body(project)


@router.patch("/api/projects/{project_id}", response_model=Project, responses=_WITH_BODY)
async def update_project(
    project_id: ObjectId,
    body: PatchedProjectRequest,
    user: CurrentUser,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
):
    """Change a project's settings (its managers); fields left out keep their values. A stated version
    (`version`, or If-Match with the ETag) that is stale is a 409."""
    fields = body.sent()
    version = stated_version(fields, if_match)
    fields.pop("version", None)
    project = await run_in_threadpool(project_service.update_project, user, project_id, fields, version)
    response.headers["ETag"] = etag(project.version)
    return await run_in_threadpool(_project_body, project)


@router.get(
    "/api/projects/{project_id}/model-versions",
    response_model=dict[str, int] | ExtendedModelVersions,
    tags=["ML"],
)
def model_versions(
    project_id: ObjectId,
    user: CurrentUser,
    extended: Annotated[
        QueryFlag, Query(description="Each version with its count and latest time, and the live models.")
    ] = False,
    include_live_models: Annotated[
        QueryFlag, Query(description="With extended: the project's ML backends as `live`.")
    ] = False,
    limit: Annotated[
        QueryInt | None, Query(description="At most this many versions, the latest first.")
    ] = None,
):
    """The model versions the project's predictions carry, the latest first, with how many carry each:
    `{version: count}` (Label Studio's answer; the project's own `model_version` is listed with 0 when
    no prediction carries it). The project's `model_version` may be one of these or an ML backend's
    title."""
    return model_version_service.listing(
        user,
        project_id,
        extended=extended,
        include_live_models=include_live_models,
        limit=limit if limit and limit > 0 else None,
    )


@router.delete("/api/projects/{project_id}", status_code=204)
def delete_project(project_id: ObjectId, user: CurrentUser):
    """Delete a project: it is gone at once; its tasks, annotations and predictions go in the background."""
    project_service.delete_project(user, project_id)
    return Response(status_code=204)


@router.post("/api/projects/{project_id}/validate", response_model=LabelConfigCheck, responses=_WITH_BODY)
async def validate_config(project_id: ObjectId, body: LabelConfigRequest, user: CurrentUser):
    """Check a label config for a project."""
    await run_in_threadpool(project_service.get_project, user, project_id)
    config = parse_label_config(body.label_config or "")
    return {"parsed_label_config": config.parsed, "data_keys": list(config.data_keys)}


@router.get("/api/projects/{project_id}/members", response_model=list[ProjectMember])
def list_members(project_id: ObjectId, user: CurrentUser):
    """The project's members."""
    return [{"user": user_json(m)} for m in project_service.members(user, project_id)]


@router.post(
    "/api/projects/{project_id}/members",
    status_code=201,
    response_model=ProjectMember,
    responses=_WITH_BODY,
)
async def add_member(project_id: ObjectId, body: MemberRequest, user: CurrentUser):
    """Add a user to the project (its managers)."""
    member = await run_in_threadpool(project_service.add_member, user, project_id, body.user)
    return {"user": user_json(member)}


@router.delete("/api/projects/{project_id}/members/{member_id}", status_code=204)
def remove_member(project_id: ObjectId, member_id: ObjectId, user: CurrentUser):
    """Take a user off the project (its managers)."""
    project_service.remove_member(user, project_id, member_id)
    return Response(status_code=204)
