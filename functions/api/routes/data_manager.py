"""/api/dm/actions: the Data Manager's bulk actions on selected tasks, and its label stream."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from functions.api.auth import CurrentUser
from functions.api.backend_calls import call_backends
from functions.api.routes.labeling import next_task_body
from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import COMMON_ERRORS, ObjectId, QueryInt, error_responses
from functions.api.schemas.data_manager import ActionRequest, ActionResult, DataManagerAction
from functions.api.schemas.tasks import NextTask
from functions.services import access, data_manager, label_stream

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


@router.post("/api/dm/actions", response_model=ActionResult | NextTask, responses=error_responses(409, 413))
async def run_action(
    user: CurrentUser,
    project: ProjectParam,
    action: Annotated[str, Query(alias="id", description="Which action, from GET /api/dm/actions.")] = "",
    view: Annotated[
        QueryInt | None, Query(description="A view of the project: act on its tasks (its filters, order).")
    ] = None,
    body: ActionRequest | None = None,
):
    """Run a bulk action on the tasks the query selects; without a body, on every task (as Label Studio
    does: the legacy SDK sends none). `next_task` (not listed, as in Label Studio) is the label stream
    over the tasks selected: "Label tasks as displayed" sends the tab's filters and ordering, and gets
    the first of its tasks the caller may label (the answer is the task, as from /next)."""
    query = body.sent() if body is not None else {}
    view_id = view or query.pop("view", None)
    if action == data_manager.NEXT_TASK:
        found = await run_in_threadpool(label_stream.next_from_data_manager, user, project, query, view_id)
        return next_task_body(found)
    run = call_backends if data_manager.calls_backends(action) else run_in_threadpool
    return await run(data_manager.run_action, user, project, action, query, view_id)
