"""Webhooks: Label Studio's record and JSON (ls-protocol.md section 8), the action catalogue, field checks,
the body a delivery sends, and the signature that proves it came from this installation.

Each delivery is signed: `X-Labelstack-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the
webhook's secret>`. The secret is write-only (set it when creating the webhook, or PATCH it; one is
generated if none is given); it is never returned, logged or put in a delivery record. Header values are
write-only too, since receivers are commonly authenticated by one (`Authorization: Bearer …`): answers list
each header's name with `HEADER_MASK` for its value, and sending the mask back keeps the stored value, so a
client that reads a webhook, changes a field and writes the whole object back loses nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from functions.domain.errors import ValidationFailed
from functions.domain.records import utcnow

SIGNATURE_HEADER = "X-Labelstack-Signature"
DELIVERY_HEADER = "X-Labelstack-Delivery"
EVENT_HEADER = "X-Labelstack-Event"
SECRET_MIN, SECRET_MAX = 16, 256
MAX_HEADERS = 10  # Label Studio's limit
HEADER_VALUE_MAX = 2048
HEADER_MASK = "********"
URL_MAX = 2048
_HEADER_NAME = re.compile(r"[A-Za-z0-9\-_]+")
# Headers a webhook may not set: the transport and the signature are ours.
_RESERVED = {
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    SIGNATURE_HEADER.lower(),
    DELIVERY_HEADER.lower(),
    EVENT_HEADER.lower(),
}

# Label Studio's catalogue (GET /api/webhooks/info, ls-samples/webhooks_info.json).
ACTIONS: dict[str, dict] = {
    "PROJECT_CREATED": {"name": "Project created", "key": "project", "organization-only": True},
    "PROJECT_UPDATED": {"name": "Project updated", "key": "project", "organization-only": False},
    "PROJECT_DELETED": {"name": "Project deleted", "key": "project", "organization-only": True},
    "TASKS_CREATED": {"name": "Task created", "key": "tasks", "organization-only": False},
    "TASKS_DELETED": {"name": "Task deleted", "key": "tasks", "organization-only": False},
    "ANNOTATION_CREATED": {"name": "Annotation created", "key": "annotation", "organization-only": False},
    "ANNOTATIONS_CREATED": {"name": "Annotations created", "key": "annotation", "organization-only": False},
    "ANNOTATION_UPDATED": {"name": "Annotation updated", "key": "annotation", "organization-only": False},
    "ANNOTATIONS_DELETED": {"name": "Annotation deleted", "key": "annotations", "organization-only": False},
    "LABEL_LINK_CREATED": {"name": "Label link created", "key": "label_link", "organization-only": False},
    "LABEL_LINK_UPDATED": {"name": "Label link updated", "key": "label_link", "organization-only": False},
    "LABEL_LINK_DELETED": {"name": "Label link deleted", "key": "label_link", "organization-only": False},
}
# labelstack's test delivery (`POST /api/webhooks/{id}/test`): sent to one webhook on request, never
# subscribed to, so it is not in the catalogue.
TEST_ACTION = "WEBHOOK_TEST"
# What an annotation change is called, as a webhook action.
ANNOTATION_ACTIONS = {
    "created": "ANNOTATION_CREATED",
    "updated": "ANNOTATION_UPDATED",
    "deleted": "ANNOTATIONS_DELETED",
}


def actions_info(organization_only: bool | None = None) -> dict:
    """The catalogue; `organization_only` keeps only the actions that are (True) or are not (False)
    organization-only, as Label Studio's `?organization-only=` does."""
    return {
        name: {
            "name": a["name"],
            "description": "",
            "key": a["key"],
            "organization-only": a["organization-only"],
        }
        for name, a in ACTIONS.items()
        if organization_only is None or a["organization-only"] == organization_only
    }


def is_organization_only(action: str) -> bool:
    """A project created or deleted: sent to the webhooks of every project only (Label Studio's rule)."""
    return bool(ACTIONS[action]["organization-only"])


def check_project_actions(project_id: int | None, actions: list[str]) -> None:
    """Label Studio refuses organization-only actions on a project's webhook (they would never fire)."""
    if project_id is None:
        return
    refused = [a for a in actions if is_organization_only(a)]
    if refused:
        raise ValidationFailed.field(
            "actions",
            f"A project's webhook cannot be sent {', '.join(refused)}: those are organization-only.",
        )


def stamp(moment: datetime) -> str:
    """The start of a delivery id: the stored form of a time (as the annotations stream carries
    `updated_at`), so the log, ordered by delivery id, reads newest first whatever sent the event."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


@dataclass
class Webhook:
    id: int
    project_id: int | None  # None: every project of the organization
    url: str = ""
    send_payload: bool = True
    send_for_all_actions: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    is_active: bool = True
    actions: list[str] = field(default_factory=list)
    secret: str = ""  # write-only
    organization: int = 1
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 0
    # The ML backend this webhook was made for (Label Studio's ML-backend webhook, ml_webhooks.py).
    ml_backend: int | None = None

    def wants(self, action: str) -> bool:
        return self.is_active and (self.send_for_all_actions or action in self.actions)


EDITABLE = ("url", "send_payload", "send_for_all_actions", "headers", "is_active", "actions", "secret")


def webhook_json(webhook: Webhook, iso) -> dict:
    """`ls-samples/webhook.json`, plus `secret_is_set` and `ml_backend` (the ML backend it was made for,
    or null); neither the secret nor header values are shown."""
    return {
        "id": webhook.id,
        "organization": webhook.organization,
        "project": webhook.project_id,
        "url": webhook.url,
        "send_payload": webhook.send_payload,
        "send_for_all_actions": webhook.send_for_all_actions,
        "headers": dict.fromkeys(webhook.headers, HEADER_MASK),
        "is_active": webhook.is_active,
        "actions": webhook.actions,
        "created_at": iso(webhook.created_at),
        "updated_at": iso(webhook.updated_at),
        "secret_is_set": bool(webhook.secret),
        "ml_backend": webhook.ml_backend,
    }


def clean_changes(fields: dict) -> dict:
    """The editable fields present in `fields`, checked; raises ValidationFailed naming the field."""
    changes: dict = {}
    for name in EDITABLE:
        if name not in fields:
            continue
        value = fields[name]
        if name in ("send_payload", "send_for_all_actions", "is_active"):
            if not isinstance(value, bool):
                raise ValidationFailed.field(name, "Must be a boolean.")
            changes[name] = value
        elif name == "url":
            if not isinstance(value, str) or not value.strip() or len(value) > URL_MAX:
                raise ValidationFailed.field(name, f"Enter a valid URL (at most {URL_MAX} characters).")
            changes[name] = value.strip()
        elif name == "headers":
            changes[name] = _headers(value)
        elif name == "actions":
            if not isinstance(value, list) or any(a not in ACTIONS for a in value):
                bad = (
                    next((a for a in value if a not in ACTIONS), value) if isinstance(value, list) else value
                )
                raise ValidationFailed.field(name, f'"{bad}" is not a valid choice.')
            changes[name] = list(dict.fromkeys(value))
        elif name == "secret":
            if not isinstance(value, str) or not SECRET_MIN <= len(value) <= SECRET_MAX:
                raise ValidationFailed.field(
                    name, f"Must be a string of {SECRET_MIN} to {SECRET_MAX} characters."
                )
            changes[name] = value
    return changes


def keep_masked_headers(sent: dict[str, str], stored: dict[str, str]) -> dict[str, str]:
    """`sent`, with each masked value replaced by the stored value of that header."""
    kept = {}
    for name, text in sent.items():
        if text == HEADER_MASK:
            if name not in stored:
                raise ValidationFailed.field("headers", f"Send the value of {name}, not the mask.")
            text = stored[name]
        kept[name] = text
    return kept


def _headers(value) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationFailed.field("headers", "Must be an object of header names to string values.")
    if len(value) > MAX_HEADERS:
        raise ValidationFailed.field("headers", f"At most {MAX_HEADERS} headers.")
    for name, text in value.items():
        if not _HEADER_NAME.fullmatch(name) or name.lower() in _RESERVED:
            raise ValidationFailed.field("headers", f"{name!r} is not a header name a webhook may set.")
        if not isinstance(text, str) or len(text) > HEADER_VALUE_MAX or "\n" in text or "\r" in text:
            raise ValidationFailed.field("headers", f"The value of {name} must be a one-line string.")
    return dict(value)


def body_for(webhook: Webhook, action: str, payload: dict) -> dict:
    """What a delivery sends: `{"action"}` plus the payload (with `project`) when `send_payload`."""
    return {"action": action, **payload} if webhook.send_payload else {"action": action}


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does with the header (constant-time comparison)."""
    return hmac.compare_digest(sign(secret, body), signature or "")
