"""/api/dm/actions: the Data Manager's bulk actions on selected tasks."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from functions.api.auth import current_user
from functions.api.backend_calls import call_backends
from functions.api.bodies import json_body, required_int_param
from functions.domain.records import User
from functions.services import access, data_manager

router = APIRouter()


@router.get("/api/dm/actions")
def list_actions(request: Request, user: User = Depends(current_user)):
    access.project_for(user, required_int_param(request.query_params.get("project"), "project"))
    return [
        {
            "id": action,
            "title": title,
            "order": order,
            "experimental": False,
            "dialog": None,
            "permission": "tasks.delete" if action.startswith("delete") else "tasks.change",
        }
        for order, (action, title) in enumerate(data_manager.ACTIONS.items())
    ]


@router.post("/api/dm/actions")
async def run_action(request: Request, user: User = Depends(current_user)):
    project_id = required_int_param(request.query_params.get("project"), "project")
    action = request.query_params.get("id") or ""
    # No body acts on every task, as in Label Studio (the legacy SDK sends none).
    body = await json_body(request) if (await request.body()).strip() else {}
    query = {key: body.get(key) for key in ("filters", "ordering", "selectedItems") if key in body}
    run = call_backends if data_manager.calls_backends(action) else run_in_threadpool
    return await run(data_manager.run_action, user, project_id, action, query)
