"""/api/dm/views: the Data Manager's saved tabs (Label Studio's `data_manager/api.py` ViewAPI)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from functions.api.auth import CurrentUser
from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import COMMON_ERRORS, ObjectId, QueryInt, error_responses
from functions.api.schemas.dm_views import (
    PatchedViewRequest,
    View,
    ViewOrderRequest,
    ViewRequest,
    ViewResetRequest,
)
from functions.domain.dm_views import view_json
from functions.domain.errors import ValidationFailed
from functions.services import dm_views

router = APIRouter(route_class=LabelStudioRoute, tags=["Data Manager"], responses=COMMON_ERRORS)
_WITH_BODY = error_responses(409, 413)


@router.get("/api/dm/views", response_model=list[View])
def list_views(
    user: CurrentUser, project: Annotated[ObjectId, Query(description="The project whose views to list.")]
):
    """A project's views (its Data Manager tabs), in tab order."""
    return [view_json(v) for v in dm_views.list_views(user, project)]


@router.post("/api/dm/views", status_code=201, response_model=View, responses=_WITH_BODY)
async def create_view(body: ViewRequest, user: CurrentUser):
    """Save a new tab; it goes to the right of the others unless an `order` is sent."""
    return view_json(await run_in_threadpool(dm_views.create_view, user, body.sent()))


# Before /api/dm/views/{view_id}, which would read "reset" and "order" as ids.
@router.delete("/api/dm/views/reset", status_code=204, responses=_WITH_BODY)
def reset_views(
    user: CurrentUser,
    project: Annotated[QueryInt | None, Query(description="The project whose views to delete.")] = None,
    body: ViewResetRequest | None = None,
):
    """Delete every view of a project (managers). The project comes in the body or as `?project=`, as
    Label Studio takes it."""
    project_id = (body.project if body is not None else None) or project
    if project_id is None:
        raise ValidationFailed.field("project", "This field is required.")
    dm_views.reset_views(user, project_id)
    return Response(status_code=204)


@router.post("/api/dm/views/order", status_code=204, responses=_WITH_BODY)
def order_views(body: ViewOrderRequest, user: CurrentUser):
    """Put a project's tabs in the order of `ids`."""
    dm_views.order_views(user, body.project, body.ids)
    return Response(status_code=204)


@router.get("/api/dm/views/{view_id}", response_model=View)
def get_view(view_id: ObjectId, user: CurrentUser):
    """A view."""
    view, _ = dm_views.view_for(user, view_id)
    return view_json(view)


@router.patch("/api/dm/views/{view_id}", response_model=View, responses=_WITH_BODY)
async def update_view(view_id: ObjectId, body: PatchedViewRequest, user: CurrentUser):
    """Change a view: `data` replaces its data (the tab as the Data Manager saves it), `order` moves it."""
    return view_json(await run_in_threadpool(dm_views.update_view, user, view_id, body.sent()))


@router.put("/api/dm/views/{view_id}", response_model=View, responses=_WITH_BODY)
async def replace_view(view_id: ObjectId, body: PatchedViewRequest, user: CurrentUser):
    """Overwrite a view: data not sent is emptied."""
    return view_json(await run_in_threadpool(dm_views.update_view, user, view_id, body.sent(), replace=True))


@router.delete("/api/dm/views/{view_id}", status_code=204)
def delete_view(view_id: ObjectId, user: CurrentUser):
    """Delete a view (its author, or a manager)."""
    dm_views.delete_view(user, view_id)
    return Response(status_code=204)
