"""Webhooks: Label Studio's webhook JSON, the action catalogue and the delivery log."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from functions.api.schemas.common import BodyBool, BodyInt, RequestBody, ResponseBody, Timestamp, optional


class PatchedWebhookRequest(RequestBody):
    url: str = optional("Where to POST events; the server must be allowed to call it.")
    send_payload: BodyBool = optional("Send the objects, not only the action's name.")
    send_for_all_actions: BodyBool = optional()
    headers: dict[str, str] | None = Field(
        None,
        description="Sent with each delivery. Write-only: answers mask the values, and sending the mask "
        "back keeps the stored value.",
    )
    is_active: BodyBool = optional()
    actions: list[str] = optional("The actions to send when send_for_all_actions is false.")
    secret: str = optional(
        "Signs each delivery (X-Labelstack-Signature: sha256=HMAC of the body); 16 to 256 characters, "
        "write-only. Generated if left out."
    )


class WebhookRequest(PatchedWebhookRequest):
    url: str = Field(description="Where to POST events; the server must be allowed to call it.")
    project: BodyInt | None = Field(None, description="null: every project (administrators only).")


class Webhook(ResponseBody):
    id: int
    organization: int
    project: int | None
    url: str
    send_payload: bool
    send_for_all_actions: bool
    headers: dict[str, str]
    is_active: bool
    actions: list[str]
    created_at: Timestamp
    updated_at: Timestamp
    secret_is_set: bool
    ml_backend: int | None = Field(
        None,
        description="The ML backend this webhook was made for when it was connected (its `/webhook`); "
        "it follows the backend's URL and is removed with it. null: a webhook someone registered.",
    )


class WebhookAction(ResponseBody):
    model_config = ConfigDict(populate_by_name=True)

    name: str
    description: str
    key: str
    organization_only: bool = Field(alias="organization-only")


class Delivery(ResponseBody):
    id: str
    action: str
    status: str
    attempts: int
    response_status: int | None
    error: str | None
    created_at: Timestamp | None
    updated_at: Timestamp | None
