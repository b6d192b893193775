"""/api/webhooks: Label Studio's webhook paths and JSON (ls-protocol.md section 8), plus the delivery log
`GET /api/webhooks/{id}/deliveries` and a test delivery `POST /api/webhooks/{id}/test`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from functions.api.auth import CurrentUser
from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import COMMON_ERRORS, ObjectId, QueryFlag, QueryInt, error_responses
from functions.api.schemas.webhooks import (
    Delivery,
    PatchedWebhookRequest,
    Webhook,
    WebhookAction,
    WebhookRequest,
)
from functions.domain.ls_json import iso
from functions.domain.webhook import actions_info, webhook_json
from functions.services import webhooks

router = APIRouter(route_class=LabelStudioRoute, tags=["Webhooks"], responses=COMMON_ERRORS)
_WITH_BODY = error_responses(409, 413)


def _json(webhook) -> dict:
    return webhook_json(webhook, iso)


@router.get("/api/webhooks/info", response_model=dict[str, WebhookAction])
def info(
    user: CurrentUser,
    organization_only: Annotated[
        QueryFlag | None,
        Query(
            alias="organization-only",
            description="true: only the actions of every project's webhooks; false: those a project's "
            "webhook can be sent.",
        ),
    ] = None,
):
    """The actions a webhook can be sent, by name."""
    return actions_info(organization_only)


@router.get("/api/webhooks", response_model=list[Webhook])
def list_webhooks(
    user: CurrentUser,
    project: Annotated[
        QueryInt | None,
        Query(description="The project's webhooks; without it, those of every project (admins)."),
    ] = None,
):
    """Webhooks of a project (its managers), or of every project (admins)."""
    return [_json(w) for w in webhooks.list_for(user, project)]


@router.post("/api/webhooks", status_code=201, response_model=Webhook, responses=_WITH_BODY)
async def create_webhook(body: WebhookRequest, user: CurrentUser):
    """Register a webhook (a project's managers; admins for every project). The URL must be one the
    server may call."""
    return _json(await run_in_threadpool(webhooks.create, user, body.sent()))


@router.get("/api/webhooks/{webhook_id}", response_model=Webhook)
def get_webhook(webhook_id: ObjectId, user: CurrentUser):
    """A webhook; header values are masked and the secret is never shown."""
    return _json(webhooks.get(user, webhook_id))


@router.put("/api/webhooks/{webhook_id}", response_model=Webhook, responses=_WITH_BODY)
@router.patch("/api/webhooks/{webhook_id}", response_model=Webhook, responses=_WITH_BODY)
async def update_webhook(webhook_id: ObjectId, body: PatchedWebhookRequest, user: CurrentUser):
    """Change a webhook; fields left out keep their values (PUT too, as in Label Studio)."""
    return _json(await run_in_threadpool(webhooks.update, user, webhook_id, body.sent()))


@router.delete("/api/webhooks/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: ObjectId, user: CurrentUser):
    """Delete a webhook and its delivery log."""
    webhooks.delete(user, webhook_id)
    return Response(status_code=204)


def _delivery_json(delivery: dict) -> dict:
    return {**delivery, "created_at": iso(delivery["created_at"]), "updated_at": iso(delivery["updated_at"])}


@router.post(
    "/api/webhooks/{webhook_id}/test",
    status_code=202,
    response_model=Delivery,
    responses=error_responses(409),
)
async def test_webhook(webhook_id: ObjectId, user: CurrentUser):
    """Queue a test delivery (action `WEBHOOK_TEST`) to this webhook, whatever actions it is sent: signed
    and sent through the same queue and URL guard as events. It shows in the delivery log, where its
    outcome can be followed."""
    return _delivery_json(await run_in_threadpool(webhooks.send_test, user, webhook_id))


@router.get("/api/webhooks/{webhook_id}/deliveries", response_model=list[Delivery])
def deliveries(
    webhook_id: ObjectId,
    user: CurrentUser,
    limit: Annotated[QueryInt, Query(description="The newest this many, 1 to 1,000.")] = 100,
):
    """The webhook's latest deliveries: each attempt's status, answer and error."""
    return [_delivery_json(d) for d in webhooks.delivery_log(user, webhook_id, limit)]
