"""/api/webhooks: Label Studio's webhook paths and JSON (ls-protocol.md section 8), plus the delivery log
`GET /api/webhooks/{id}/deliveries`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from functions.api.auth import current_user
from functions.api.bodies import int_param, json_body
from functions.domain.ls_json import iso
from functions.domain.records import User
from functions.domain.webhook import actions_info, webhook_json
from functions.services import webhooks

router = APIRouter()


def _json(webhook) -> dict:
    return webhook_json(webhook, iso)


@router.get("/api/webhooks/info")
def info(user: User = Depends(current_user)):
    return actions_info()


@router.get("/api/webhooks")
def list_webhooks(request: Request, user: User = Depends(current_user)):
    project_id = int_param(request.query_params.get("project"), "project")
    return [_json(w) for w in webhooks.list_for(user, project_id)]


@router.post("/api/webhooks", status_code=201)
async def create_webhook(request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    return _json(await run_in_threadpool(webhooks.create, user, body))


@router.get("/api/webhooks/{webhook_id}")
def get_webhook(webhook_id: int, user: User = Depends(current_user)):
    return _json(webhooks.get(user, webhook_id))


@router.put("/api/webhooks/{webhook_id}")
@router.patch("/api/webhooks/{webhook_id}")
async def update_webhook(webhook_id: int, request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    return _json(await run_in_threadpool(webhooks.update, user, webhook_id, body))


@router.delete("/api/webhooks/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: int, user: User = Depends(current_user)):
    webhooks.delete(user, webhook_id)
    return Response(status_code=204)


@router.get("/api/webhooks/{webhook_id}/deliveries")
def deliveries(webhook_id: int, request: Request, user: User = Depends(current_user)):
    limit = int_param(request.query_params.get("limit"), "limit", 100)
    return [
        {**d, "created_at": iso(d["created_at"]), "updated_at": iso(d["updated_at"])}
        for d in webhooks.delivery_log(user, webhook_id, limit)
    ]
