"""Webhooks, their delivery log, and the SQS queue deliveries travel through."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from functools import cache
from typing import Any

from pynamodb.expressions.update import Action

from functions.domain.errors import NotFound
from functions.domain.records import utcnow
from functions.domain.webhook import EDITABLE, Webhook
from functions.settings import get_settings
from functions.store import ids, setting_maps
from functions.store.aws_clients import client
from functions.store.errors import conflict_on_condition
from functions.store.field_updates import set_or_remove
from functions.store.models import WebhookDeliveryModel, WebhookModel

NOT_FOUND = "No Webhook matches the given query."
ORGANIZATION_WIDE = 0  # the project id stored for a webhook of every project
LOG_DAYS = 30
STALE = "The webhook was changed by someone else; reload it and try again."


class Keep:
    """`update_fields(ml_backend=KEEP)`: leave whose webhook it is as it is."""


KEEP = Keep()
_SETTINGS = tuple(name for name in EDITABLE if name != "secret")


def _to_webhook(item: WebhookModel) -> Webhook:
    project_id = int(item.project_id)
    return Webhook(
        id=int(item.id),
        project_id=project_id or None,
        secret=item.secret,
        organization=int(item.organization or 1),
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version or 0),
        ml_backend=int(item.ml_backend) if item.ml_backend is not None else None,
        **setting_maps.stored(item.fields, item.setting_values, _SETTINGS),
    )


def _setting_values(webhook: Webhook) -> dict[str, str]:
    data = dataclasses.asdict(webhook)
    return setting_maps.texts({k: data[k] for k in _SETTINGS})


def new_id() -> int:
    return ids.reserve("webhook")


def create(webhook: Webhook) -> Webhook:
    item = WebhookModel(
        webhook.id,
        project_id=webhook.project_id or ORGANIZATION_WIDE,
        organization=webhook.organization,
        setting_values=_setting_values(webhook),
        secret=webhook.secret,
        ml_backend=webhook.ml_backend,
        created_at=webhook.created_at,
        updated_at=webhook.updated_at,
        version=0,
    )
    with conflict_on_condition("webhook id already taken"):
        item.save(condition=WebhookModel.id.does_not_exist())
    return webhook


def get(webhook_id: int) -> Webhook:
    try:
        return _to_webhook(WebhookModel.get(webhook_id, consistent_read=True))
    except WebhookModel.DoesNotExist:
        raise NotFound(NOT_FOUND) from None


def list_for_project(project_id: int | None) -> list[Webhook]:
    return [_to_webhook(item) for item in WebhookModel.project_index.query(project_id or ORGANIZATION_WIDE)]


def update_fields(
    webhook_id: int,
    changes: dict[str, Any],
    *,
    ml_backend: int | Keep | None = KEEP,
    expected_version: int | None = None,
    unchanged: dict[str, Any] | None = None,
) -> tuple[Webhook, Webhook]:
    """Set the settings in `changes` (the secret among them), and only those, in one UpdateItem; return
    the webhook as it was just before the write and as the write left it. `ml_backend`: the backend it
    now belongs to, or None for none (KEEP: as it is). Conflict when a setting in `unchanged` no longer
    holds the given value (or `expected_version` is stale); NotFound when the webhook is gone."""
    now = utcnow()
    actions: list[Action] = [WebhookModel.updated_at.set(now)]
    if "secret" in changes:
        actions.append(WebhookModel.secret.set(changes["secret"]))
    if not isinstance(ml_backend, Keep):
        actions.append(set_or_remove(WebhookModel.ml_backend, ml_backend))
    entries = {name: setting_maps.dumps(value) for name, value in changes.items() if name in _SETTINGS}
    old = setting_maps.update(
        WebhookModel,
        webhook_id,
        entries,
        document="fields",
        actions=actions,
        expected_version=expected_version,
        unchanged=setting_maps.texts(unchanged or {}),
        stale=STALE,
        missing=NOT_FOUND,
    )
    before = _to_webhook(old)
    after = dataclasses.replace(before, **changes, updated_at=now, version=before.version + 1)
    if not isinstance(ml_backend, Keep):
        after.ml_backend = ml_backend
    return before, after


def delete(webhook_id: int) -> None:
    WebhookModel(webhook_id).delete()


# --- the delivery log -----------------------------------------------------------------------------------


def delivery_status(webhook_id: int, delivery_id: str) -> str | None:
    """The logged status of a delivery (queued, retrying, delivered, failed); None if never queued."""
    try:
        item = WebhookDeliveryModel.get(webhook_id, delivery_id, attributes_to_get=["status"])
    except WebhookDeliveryModel.DoesNotExist:
        return None
    return item.status


def log_queued(webhook_id: int, delivery_id: str, action: str) -> bool:
    """Record a queued delivery; False if it was logged before (then its log is left as it is)."""
    now = utcnow()
    item = WebhookDeliveryModel(
        webhook_id,
        delivery_id,
        action=action,
        status="queued",
        attempts=0,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=LOG_DAYS),
    )
    try:
        item.save(condition=WebhookDeliveryModel.delivery_id.does_not_exist())
    except Exception as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def log_attempt(
    webhook_id: int,
    delivery_id: str,
    *,
    status: str,
    attempts: int,
    response_status: int | None,
    error: str | None,
) -> None:
    actions: list[Action] = [
        WebhookDeliveryModel.status.set(status),
        WebhookDeliveryModel.attempts.set(attempts),
        WebhookDeliveryModel.updated_at.set(utcnow()),
        WebhookDeliveryModel.response_status.set(response_status)
        if response_status is not None
        else WebhookDeliveryModel.response_status.remove(),
        WebhookDeliveryModel.error.set(error) if error else WebhookDeliveryModel.error.remove(),
    ]
    WebhookDeliveryModel(webhook_id, delivery_id).update(actions=actions)


def deliveries(webhook_id: int, limit: int) -> list[dict]:
    """The newest `limit` deliveries."""
    return [
        {
            "id": item.delivery_id,
            "action": item.action,
            "status": item.status,
            "attempts": int(item.attempts or 0),
            "response_status": int(item.response_status) if item.response_status is not None else None,
            "error": item.error,
            "created_at": item.created_at,
            "updated_at": item.updated_at,
        }
        for item in WebhookDeliveryModel.query(webhook_id, scan_index_forward=False, limit=limit)
    ]


def delete_log(webhook_id: int) -> None:
    with WebhookDeliveryModel.batch_write() as batch:
        for item in WebhookDeliveryModel.query(webhook_id, attributes_to_get=["webhook_id", "delivery_id"]):
            batch.delete(item)


# --- the queue ------------------------------------------------------------------------------------------


@cache
def _queue_url(name: str) -> str:
    return client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def queue_url() -> str:
    return _queue_url(get_settings().deliveries_queue)


def enqueue(messages: list[dict]) -> None:
    """Send delivery messages (10 per SendMessageBatch call); raises if SQS refused any."""
    sqs, url = client("sqs"), queue_url()
    for start in range(0, len(messages), 10):
        chunk = messages[start : start + 10]
        answer = sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "MessageBody": json.dumps(m, separators=(",", ":"))}
                for i, m in enumerate(chunk)
            ],
        )
        if answer.get("Failed"):
            raise RuntimeError(
                f"SQS refused {len(answer['Failed'])} webhook deliveries: {answer['Failed'][0].get('Code')}"
            )
