"""Webhooks (`/api/webhooks`): register, edit, remove; publish events to them; deliver them.

Publishing (from the annotations stream, functions/events/webhooks.py) builds Label Studio's body once per
event, logs one delivery per matching webhook and queues it on SQS. Delivering (the deliveries Lambda,
functions/handlers/deliveries.py; locally infra/delivery_pump.py) POSTs the body, signed, through the
SSRF-guarded HTTP client; an answer other than 2xx, or no answer, raises, so SQS offers the message again
after its visibility timeout, and after `webhook_max_attempts` receives parks it in the dead-letter queue.
Unlike Label Studio (one attempt, errors only logged), nothing is dropped silently; each attempt is in
the delivery log (`GET /api/webhooks/{id}/deliveries`).

Project webhooks: only managers and admins of the project read or change them (a receiver's URL and
header names are configuration other members have no need for). Organization-wide ones (no project):
admins only.

Connecting an `http` ML backend registers a project webhook to its `/webhook`, as Label Studio does;
`follow_ml_backends` keeps those in step with the backends (functions/domain/ml_webhooks.py). A backend
that got an event but has not answered within the timeout is not sent it again (Label Studio's SDK runs
`fit()` before it answers: a retry would train twice); the delivery is logged `sent`.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from typing import NoReturn

from functions.domain import ml_webhooks
from functions.domain.errors import NotFound, PermissionDenied, ValidationFailed
from functions.domain.label_config import parse_label_config
from functions.domain.ls_json import annotation_json, project_hook_json, task_json
from functions.domain.ml_backend import MLBackend
from functions.domain.records import Project, Task, User, utcnow
from functions.domain.url_guard import BlockedURL, parse_allow_list, parse_target
from functions.domain.webhook import (
    ACTIONS,
    ANNOTATION_ACTIONS,
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TEST_ACTION,
    Webhook,
    body_for,
    check_project_actions,
    clean_changes,
    is_organization_only,
    keep_masked_headers,
    sign,
    stamp,
)
from functions.ml import guarded_http
from functions.services import access
from functions.settings import get_settings
from functions.store import annotations as annotation_store
from functions.store import blobs
from functions.store import projects as project_store
from functions.store import tasks as task_store
from functions.store import webhooks as webhook_store
from functions.store.atomic import atomic
from functions.store.webhooks import KEEP

logger = logging.getLogger(__name__)
USER_AGENT = "labelstack-webhooks"
# SQS takes up to 256 KB a message; larger bodies wait in the files bucket and the message carries the key.
_INLINE_BODY_BYTES = 200_000
_ERROR_MAX = 500
_LOG_LIMIT_MAX = 1000
TASK_BATCH = 100  # tasks per TASKS_CREATED / TASKS_DELETED delivery, so a large import's bodies stay small


def _allow():
    return parse_allow_list(get_settings().allowed_hosts)


def _check_url(url: str) -> None:
    """A URL the server may not call is a 400 naming `url`, before anything is saved."""
    try:
        guarded_http.resolve(parse_target(url), _allow())
    except BlockedURL as exc:
        raise ValidationFailed.field("url", str(exc)) from None
    except guarded_http.Unreachable:
        pass  # the receiver may come up later; deliveries retry


def webhook_for(user: User, webhook_id: int, *, manage: bool = False) -> Webhook:
    webhook = webhook_store.get(webhook_id)
    if webhook.project_id is None:
        if not user.is_admin:
            raise NotFound(webhook_store.NOT_FOUND)
        return webhook
    try:
        access.project_for(user, webhook.project_id, manage=manage)
    except NotFound:
        raise NotFound(webhook_store.NOT_FOUND) from None
    return webhook


def _project_of(user: User, fields: dict, *, manage: bool) -> int | None:
    value = fields.get("project")
    if value is None:
        if not user.is_admin:
            raise PermissionDenied("Only administrators may register webhooks for every project.")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed.field("project", "Must be a project id or null.")
    return access.project_for(user, value, manage=manage).id


def create(user: User, fields: dict) -> Webhook:
    project_id = _project_of(user, fields, manage=True)
    if "url" not in fields:
        raise ValidationFailed.field("url", "This field is required.")
    webhook = Webhook(id=0, project_id=project_id, secret=secrets.token_urlsafe(32))
    _apply(webhook, fields)
    _check_url(webhook.url)
    webhook.id = webhook_store.new_id()
    return webhook_store.create(webhook)


def list_for(user: User, project_id: int | None) -> list[Webhook]:
    if project_id is None:
        if not user.is_admin:
            raise ValidationFailed.field("project", "This query parameter is required.")
        return webhook_store.list_for_project(None)
    access.project_for(user, project_id, manage=True)
    return webhook_store.list_for_project(project_id)


def get(user: User, webhook_id: int) -> Webhook:
    return webhook_for(user, webhook_id, manage=True)


def _apply(webhook: Webhook, fields: dict) -> None:
    """Fields not sent keep their value; headers sent with the mask keep their stored values."""
    changes = clean_changes(fields)
    if "actions" in changes:
        check_project_actions(webhook.project_id, changes["actions"])
    if "headers" in changes:
        changes["headers"] = keep_masked_headers(changes["headers"], webhook.headers)
    for name, value in changes.items():
        setattr(webhook, name, value)


def update(user: User, webhook_id: int, fields: dict) -> Webhook:
    """Write the fields sent, and only those (concurrent edits of others are kept). Headers sent with
    the mask keep the stored values they were read with: the write is conditional on those. A webhook
    made for an ML backend whose URL someone changes is theirs from then on (it no longer follows the
    backend)."""
    webhook = webhook_for(user, webhook_id, manage=True)
    changes = clean_changes(fields)
    unchanged = None
    if "headers" in changes:
        sent = changes["headers"]
        changes["headers"] = keep_masked_headers(sent, webhook.headers)
        if changes["headers"] != sent:
            unchanged = {"headers": webhook.headers}
    if "url" in changes:
        _check_url(changes["url"])
    moved = changes.get("url", webhook.url) != webhook.url
    owner = None if moved and webhook.ml_backend is not None else KEEP
    _, saved = webhook_store.update_fields(webhook.id, changes, ml_backend=owner, unchanged=unchanged)
    return saved


def delete(user: User, webhook_id: int) -> None:
    webhook = webhook_for(user, webhook_id, manage=True)
    _delete(webhook.id)


# --- the webhooks ML backends hear through (functions/domain/ml_webhooks.py) ------------------------------


def follow_ml_backends(project_id: int, backends: list[MLBackend]) -> None:
    """Bring the project's ML-backend webhooks in step with `backends` (all of the project's, as they are
    now: the caller knows the one it just wrote or removed better than an index read at once would).

    As in Label Studio, a webhook the server may not call (the URL guard refuses it) is not made, and
    that does not fail the backend's change: the backend is then only told of training by START_TRAINING.
    """
    for change in ml_webhooks.plan(backends, webhook_store.list_for_project(project_id)):
        if change.action == ml_webhooks.CREATE:
            _create_ml_webhook(project_id, change.backend, change.url)
        elif change.action == ml_webhooks.MOVE:
            try:
                _check_url(change.url)
                webhook_store.update_fields(change.webhook, {"url": change.url}, ml_backend=change.backend)
            except ValidationFailed as exc:
                logger.info("ML backend webhook %s not moved to %s: %s", change.webhook, change.url, exc)
                _delete(change.webhook)
            except NotFound:
                pass  # deleted meanwhile
        else:
            _delete(change.webhook)


def _create_ml_webhook(project_id: int, backend_id: int, url: str) -> None:
    webhook = Webhook(
        id=0,
        project_id=project_id,
        url=url,
        send_payload=True,
        send_for_all_actions=True,
        secret=secrets.token_urlsafe(32),
        ml_backend=backend_id,
    )
    try:
        _check_url(webhook.url)
    except ValidationFailed as exc:
        logger.info("no webhook for ML backend %s at %s: %s", backend_id, webhook.url, exc)
        return
    webhook.id = webhook_store.new_id()
    webhook_store.create(webhook)


def _delete(webhook_id: int) -> None:
    webhook_store.delete(webhook_id)
    webhook_store.delete_log(webhook_id)


def delivery_log(user: User, webhook_id: int, limit: int) -> list[dict]:
    webhook = webhook_for(user, webhook_id, manage=True)
    if not 1 <= limit <= _LOG_LIMIT_MAX:
        raise ValidationFailed.field("limit", f"Must be between 1 and {_LOG_LIMIT_MAX}.")
    return webhook_store.deliveries(webhook.id, limit)


# --- publishing -----------------------------------------------------------------------------------------


def subscribers(project_id: int | None, action: str) -> list[Webhook]:
    """Active webhooks that want `action`: the project's and every project's; an organization-only
    action (a project created or deleted) goes to the webhooks of every project alone, as in Label
    Studio."""
    hooks = webhook_store.list_for_project(None)
    if project_id is not None and not is_organization_only(action):
        hooks = webhook_store.list_for_project(project_id) + hooks
    return [h for h in hooks if h.wants(action)]


PayloadOf = Callable[[], "dict | None"]


def publish(project_id: int | None, action: str, payload_of: PayloadOf, delivery_key: str) -> int:
    """Queue `action` for every webhook that wants it; returns how many were queued.

    `payload_of()` builds Label Studio's payload (called only if some webhook wants it; None when the
    event no longer concerns anyone, e.g. its project is gone). `delivery_key` names this event and
    starts with its time (`stamp`): an event whose delivery was logged already (a stream record handled
    again after a restart or a failed batch, a publish retried) queues nothing new.

    The messages are queued, then logged: a crash in between queues them again on the record's retry
    (at least once, never lost). On the sqlite engine both are one transaction, so a `labelstack dev`
    killed at any point neither loses nor repeats a delivery it had queued.
    """
    return publish_batches(project_id, action, [(delivery_key, payload_of)])


def publish_batches(project_id: int | None, action: str, events: Iterable[tuple[str, PayloadOf]]) -> int:
    """`publish` for several events of one action (a large import's tasks, 100 a delivery): the
    subscribers are read once."""
    if action not in ACTIONS:
        raise ValueError(f"unknown webhook action {action!r}")
    hooks = subscribers(project_id, action)
    if not hooks:
        return 0
    return sum(_queue(hooks, action, payload_of, f"{key}:{action}") for key, payload_of in events)


def _queue(hooks: list[Webhook], action: str, payload_of: PayloadOf, delivery_id: str) -> int:
    payload: dict | None = None
    messages: list[dict] = []
    with atomic():
        for hook in hooks:
            if webhook_store.delivery_status(hook.id, delivery_id) is not None:
                continue
            if payload is None:
                payload = payload_of()
                if payload is None:
                    return 0
            messages.append(_message(hook, action, payload, delivery_id))
        webhook_store.enqueue(messages)
        for queued in messages:
            webhook_store.log_queued(queued["webhook_id"], delivery_id, action)
    return len(messages)


def _message(hook: Webhook, action: str, payload: dict, delivery_id: str) -> dict:
    body = json.dumps(body_for(hook, action, payload), ensure_ascii=False, separators=(",", ":"))
    message: dict = {"webhook_id": hook.id, "delivery_id": delivery_id, "action": action}
    if len(body.encode()) > _INLINE_BODY_BYTES:
        ref = f"webhooks/{hook.id}/{delivery_id.replace(':', '-')}.json"
        blobs.put_bytes(ref, body.encode(), "application/json")
        message["body_ref"] = ref
    else:
        message["body"] = body
    return message


def after_write(project_id: int | None, action: str, events: Iterable[tuple[str, PayloadOf]]) -> int:
    """Publish the events (delivery key, payload) of a change a request (or job) has just written: task
    and project events, which have no stream behind them. The change happened, so a queue that fails is
    logged, not raised: the caller's answer must not tell a client to retry a write that was made. These
    events are therefore at most once, where annotation events (from the stream) are at least once."""
    try:
        return publish_batches(project_id, action, events)
    except Exception:
        logger.exception("webhook event %s of project %s was not queued", action, project_id)
        return 0


def _project_body(project_id: int) -> dict | None:
    try:
        project = project_store.get(project_id)
    except NotFound:
        return None
    return project_hook_json(project, parse_label_config(project.label_config).parsed)


def _task_body(task: Task) -> dict:
    # The task as Label Studio's webhook serializer sends it (ls-samples/webhook_payloads.json).
    return {**task_json(task), "allow_skip": True, "precomputed_agreement": None}


def annotation_payload(project_id: int, annotation_id: int, task_id: int, action: str) -> dict | None:
    """Label Studio's payloads for annotation events (ls-samples/webhook_payloads.json); None once the
    project is gone (its annotations are removed after it, and Label Studio sends nothing for those)."""
    project_body = _project_body(project_id)
    if project_body is None:
        return None
    payload: dict = {"project": project_body}
    if action == "ANNOTATIONS_DELETED":
        payload["annotations"] = [{"id": annotation_id}]
        return payload
    try:
        annotation = annotation_store.get(annotation_id)
    except NotFound:  # deleted since: the record's event still happened; say what is known
        payload.update(annotation={"id": annotation_id, "task": task_id}, task={"id": task_id})
        return payload
    body = annotation_json(annotation)
    for extra in (
        "created_username",
        "created_ago",
        "version",
        "review_status",
        "reviewed_by",
        "reviewed_at",
    ):
        body.pop(extra, None)
    payload["annotation"] = body
    payload["task"] = task_json(task_store.get(annotation.task_id))
    return payload


def publish_annotation_change(
    change_action: str, project_id: int, annotation_id: int, task_id: int, changed_at: str
) -> int:
    action = ANNOTATION_ACTIONS[change_action]
    return publish(
        project_id,
        action,
        lambda: annotation_payload(project_id, annotation_id, task_id, action),
        delivery_key=f"{changed_at}:{annotation_id}",
    )


def _with_project(project_body: dict | None, key: str, value) -> dict | None:
    return None if project_body is None else {key: value, "project": project_body}


def tasks_created(project_id: int, tasks: list[Task]) -> int:
    """TASKS_CREATED for new tasks (an import, a storage sync, one task), `TASK_BATCH` tasks a delivery.
    A batch is named by its task ids, which are never reused: publishing it again queues nothing."""
    if not tasks:
        return 0
    project_body = cache(lambda: _project_body(project_id))  # read once for all the batches

    def event(batch: list[Task]) -> tuple[str, PayloadOf]:
        key = f"{stamp(batch[0].created_at)}:tasks-{batch[0].id}-{batch[-1].id}"
        return key, lambda: _with_project(project_body(), "tasks", [_task_body(t) for t in batch])

    return after_write(project_id, "TASKS_CREATED", (event(b) for b in _batches(tasks)))


def tasks_deleted(project_id: int, task_ids: list[int], deleted_at: datetime) -> int:
    """TASKS_DELETED for tasks deleted at `deleted_at` (`{"tasks": [{"id"}...]}`), `TASK_BATCH` a delivery."""
    if not task_ids:
        return 0
    project_body = cache(lambda: _project_body(project_id))

    def event(batch: list[int]) -> tuple[str, PayloadOf]:
        key = f"{stamp(deleted_at)}:tasks-{batch[0]}-{batch[-1]}-{len(batch)}"
        return key, lambda: _with_project(project_body(), "tasks", [{"id": i} for i in batch])

    return after_write(project_id, "TASKS_DELETED", (event(b) for b in _batches(task_ids)))


def _batches(items: list) -> list[list]:
    """`TASK_BATCH` items a delivery."""
    return [items[i : i + TASK_BATCH] for i in range(0, len(items), TASK_BATCH)]


def project_created(project: Project) -> int:
    key = f"{stamp(project.created_at)}:project-{project.id}"
    return after_write(project.id, "PROJECT_CREATED", [(key, lambda: _project_payload(project.id))])


def project_updated(project: Project, updated_at: datetime) -> int:
    """PROJECT_UPDATED for the change that made `project.version`."""
    key = f"{stamp(updated_at)}:project-{project.id}-v{project.version}"
    return after_write(project.id, "PROJECT_UPDATED", [(key, lambda: _project_payload(project.id))])


def project_deleted(project_id: int, deleted_at: datetime) -> int:
    """PROJECT_DELETED: Label Studio sends only the project's id."""
    key = f"{stamp(deleted_at)}:project-{project_id}"
    return after_write(project_id, "PROJECT_DELETED", [(key, lambda: {"project": {"id": project_id}})])


def _project_payload(project_id: int) -> dict | None:
    project_body = _project_body(project_id)
    return None if project_body is None else {"project": project_body}


def remove_project_webhooks(project_id: int) -> int:
    """A deleted project's webhooks go with it (Label Studio deletes them with the project)."""
    hooks = webhook_store.list_for_project(project_id)
    for hook in hooks:
        _delete(hook.id)
    return len(hooks)


def send_test(user: User, webhook_id: int) -> dict:
    """`POST /api/webhooks/{id}/test`: queue a `WEBHOOK_TEST` delivery to this webhook alone, whatever
    actions it is sent, through the same queue, signature and SSRF guard as every event; returns the
    delivery as the log shows it (queued). Its payload names the webhook and, for a project's webhook,
    the project."""
    webhook = webhook_for(user, webhook_id, manage=True)
    if not webhook.is_active:
        raise ValidationFailed.field("is_active", "The webhook is not active: activate it to send a test.")
    _check_url(webhook.url)
    now = utcnow()
    delivery_id = f"{stamp(now)}:test-{secrets.token_hex(4)}:{TEST_ACTION}"
    payload: dict = {"webhook": {"id": webhook.id, "url": webhook.url}}
    if webhook.project_id is not None:
        payload["project"] = _project_body(webhook.project_id) or {"id": webhook.project_id}
    message = _message(webhook, TEST_ACTION, payload, delivery_id)
    with atomic():
        webhook_store.enqueue([message])
        webhook_store.log_queued(webhook.id, delivery_id, TEST_ACTION)
    return {
        "id": delivery_id,
        "action": TEST_ACTION,
        "status": "queued",
        "attempts": 0,
        "response_status": None,
        "error": None,
        "created_at": now,
        "updated_at": now,
    }


# --- delivering -----------------------------------------------------------------------------------------


class DeliveryFailed(Exception):
    """The receiver did not take the delivery (no answer, or not 2xx); the queue offers it again."""


def deliver(message: dict, attempt: int) -> str:
    """Send one queued delivery (the `attempt`-th receive of its message); returns its logged status.

    Raises DeliveryFailed for a failure worth retrying. A webhook deleted or deactivated meanwhile, or a
    URL the guard now refuses, ends the delivery without retries.
    """
    webhook_id, delivery_id = int(message["webhook_id"]), message["delivery_id"]
    try:
        webhook = webhook_store.get(webhook_id)
    except NotFound:
        return "dropped"
    if webhook_store.delivery_status(webhook_id, delivery_id) in ("delivered", "sent"):
        # SQS may hand a message out twice, and a stop between the receiver's answer and the message's
        # deletion leaves it queued: what the log says was delivered is not sent again.
        return "delivered"
    if not webhook.is_active:
        webhook_store.log_attempt(
            webhook_id,
            delivery_id,
            status="failed",
            attempts=attempt,
            response_status=None,
            error="the webhook was deactivated",
        )
        return "failed"
    body = (message["body"] if "body" in message else blobs.get_bytes(message["body_ref"]).decode()).encode()
    headers = {
        **webhook.headers,
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(webhook.secret, body),
        DELIVERY_HEADER: delivery_id,
        EVENT_HEADER: message["action"],
        "User-Agent": USER_AGENT,
    }
    settings = get_settings()
    final = attempt >= settings.webhook_max_attempts
    try:
        response = guarded_http.request(
            "POST",
            webhook.url,
            allow=_allow(),
            timeout=settings.webhook_timeout,
            connect_timeout=min(settings.webhook_timeout, settings.ml_connect_timeout),
            retries=0,
            max_bytes=64 * 1024,
            body=body,
            headers=headers,
        )
    except BlockedURL as exc:
        webhook_store.log_attempt(
            webhook_id,
            delivery_id,
            status="failed",
            attempts=attempt,
            response_status=None,
            error=str(exc)[:_ERROR_MAX],
        )
        return "failed"
    except guarded_http.NoAnswer as exc:
        if webhook.ml_backend is None:
            _failed(webhook_id, delivery_id, attempt, final, None, str(exc))
        # An ML backend got the event and is still at it: Label Studio's SDK trains (`fit()`) before it
        # answers. Sent again, the event would train it again, so it is not (Label Studio never retries).
        webhook_store.log_attempt(
            webhook_id,
            delivery_id,
            status="sent",
            attempts=attempt,
            response_status=None,
            error=f"{exc}: the ML backend got the event and had not answered; it is not sent again",
        )
        if "body_ref" in message:
            blobs.delete(message["body_ref"])
        return "sent"
    except guarded_http.Unreachable as exc:
        _failed(webhook_id, delivery_id, attempt, final, None, str(exc))
    if not response.ok:
        _failed(
            webhook_id,
            delivery_id,
            attempt,
            final,
            response.status,
            f"the receiver answered {response.status}",
        )
    webhook_store.log_attempt(
        webhook_id,
        delivery_id,
        status="delivered",
        attempts=attempt,
        response_status=response.status,
        error=None,
    )
    if "body_ref" in message:
        blobs.delete(message["body_ref"])
    return "delivered"


def _failed(
    webhook_id: int, delivery_id: str, attempt: int, final: bool, status: int | None, reason: str
) -> NoReturn:
    # The last attempt's message goes to the dead-letter queue: the log says so.
    webhook_store.log_attempt(
        webhook_id,
        delivery_id,
        status="failed" if final else "retrying",
        attempts=attempt,
        response_status=status,
        error=reason[:_ERROR_MAX],
    )
    logger.info("webhook %s delivery %s attempt %d failed: %s", webhook_id, delivery_id, attempt, reason)
    raise DeliveryFailed(reason)
