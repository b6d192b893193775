"""/api/dm/actions: the Data Manager's bulk actions on selected tasks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from functions.api.auth import CurrentUser
from functions.api.backend_calls import call_backends
from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import COMMON_ERRORS, ObjectId, error_responses
from functions.api.schemas.data_manager import ActionRequest, ActionResult, DataManagerAction
from functions.services import access, data_manager

router = APIRouter(route_class=LabelStudioRoute, tags=["Data Manager"], responses=COMMON_ERRORS)
ProjectParam = Annotated[ObjectId, Query(description="The project whose tasks to act on.")]


@router.get("/api/dm/actions", response_model=list[DataManagerAction])
def list_actions(user: CurrentUser, project: ProjectParam):
    """The bulk actions the Data Manager offers."""
    access.project_for(user, project)
    return [
        {
            "id": action,
            "title": title,
            "order": order,
            "experimental": False,
            "dialog": None,
            "permission": "tasks.delete" if action.startswith("delete") else "tasks.change",
        }
        for order, (action, title) in enumerate(data_manager.actions_for(user).items())
    ]


@router.post("/api/dm/actions", response_model=ActionResult, responses=error_responses(409, 413))
async def run_action(
    user: CurrentUser,
    project: ProjectParam,
    action: Annotated[str, Query(alias="id", description="Which action, from GET /api/dm/actions.")] = "",
    body: ActionRequest | None = None,
):
    """Run a bulk action on the tasks the query selects; without a body, on every task (as Label Studio
    does: the legacy SDK sends none)."""
    query = body.sent() if body is not None else {}
    run = call_backends if data_manager.calls_backends(action) else run_in_threadpool
    return await run(data_manager.run_action, user, project, action, query)
