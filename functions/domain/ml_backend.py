"""An ML backend registered on a project: its record, Label Studio's JSON for it, and field checks.

Two kinds. `http` is Label Studio's own: a URL speaking the ML-backend protocol (`/health`, `/setup`,
`/predict`, `/webhook`). `sagemaker` is a SageMaker endpoint that takes the same `/predict` JSON through
InvokeEndpoint. The JSON keeps Label Studio's fields (`ls-samples/ml_backend.json`) and adds `kind`,
`endpoint_name`, `region`, `target_variant` and `read_only`.

A SageMaker endpoint serves one model, so it belongs to one project: the first to register it (per
region). Training replaces that model, so another project's backend on the same endpoint is read-only:
it predicts with the owner's model and is never trained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from functions.domain.errors import ValidationFailed
from functions.domain.json_limits import check_size
from functions.domain.records import utcnow

KINDS = ("http", "sagemaker")
AUTH_METHODS = ("NONE", "BASIC_AUTH")
# Label Studio's states (ml/models.py MLBackendState).
CONNECTED, DISCONNECTED, ERROR, TRAINING, PREDICTING = "CO", "DI", "ER", "TR", "PR"
READABLE_STATES = {
    CONNECTED: "Connected",
    DISCONNECTED: "Disconnected",
    ERROR: "Error",
    TRAINING: "Training",
    PREDICTING: "Predicting",
}
TITLE_MAX = 500
EXTRA_PARAMS_MAX_BYTES = 64 * 1024
DESCRIPTION_MAX = 10_000
ERROR_MAX = 2_000
_ENDPOINT_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_VARIANT = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")


@dataclass
class MLBackend:
    id: int
    project_id: int
    kind: str = "http"
    title: str = "default"
    description: str = ""
    url: str = ""
    auth_method: str = "NONE"
    basic_auth_user: str = ""
    basic_auth_pass: str = ""  # write-only: never in JSON, logs or error messages
    extra_params: object = None  # any JSON value; sent to /setup as a JSON string
    is_interactive: bool = False
    auto_update: bool = True
    model_version: str = ""
    state: str = DISCONNECTED
    error_message: str | None = None
    # Seconds one /predict may take (Label Studio's default is 100); calls an API request waits on are
    # held to the settings' ml_api_timeout as well.
    timeout: float = 20.0
    endpoint_name: str = ""
    region: str = ""
    target_variant: str = ""
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 0
    # The latest background prediction job (one at a time per backend).
    job: dict = field(default_factory=dict)
    # The error is a failed training run's: it stays until the next status a run or an edit writes
    # (connection checks do not clear it).
    training_failed: bool = False
    # The error is a failed prediction's (a /predict that timed out or answered something unusable): it
    # stays until a prediction succeeds, since /health and /setup working says nothing about /predict.
    predict_failed: bool = False
    # Another project owns this backend's SageMaker endpoint: prediction only (set when connected).
    read_only: bool = False


EDITABLE = (
    "title",
    "description",
    "url",
    "auth_method",
    "basic_auth_user",
    "basic_auth_pass",
    "extra_params",
    "is_interactive",
    "auto_update",
    "model_version",
    "timeout",
    "endpoint_name",
    "region",
    "target_variant",
)


def backend_json(backend: MLBackend, iso) -> dict:
    body = {
        "id": backend.id,
        "state": backend.state,
        "readable_state": READABLE_STATES.get(backend.state, backend.state),
        "is_interactive": backend.is_interactive,
        "url": backend.url,
        "error_message": backend.error_message,
        "title": backend.title,
        "auth_method": backend.auth_method,
        "basic_auth_user": backend.basic_auth_user,
        "basic_auth_pass_is_set": bool(backend.basic_auth_pass),
        "description": backend.description,
        "extra_params": backend.extra_params,
        "model_version": backend.model_version,
        "timeout": backend.timeout,
        "created_at": iso(backend.created_at),
        "updated_at": iso(backend.updated_at),
        "auto_update": backend.auto_update,
        "project": backend.project_id,
        "kind": backend.kind,
        "read_only": backend.read_only,
    }
    if backend.kind == "sagemaker":
        body.update(
            endpoint_name=backend.endpoint_name,
            region=backend.region,
            target_variant=backend.target_variant or None,
        )
    return body


def _string(fields: dict, name: str, limit: int, *, allow_empty: bool = True) -> str:
    value = fields[name]
    if value is None and allow_empty:
        return ""
    if not isinstance(value, str) or len(value) > limit or (not allow_empty and not value.strip()):
        raise ValidationFailed.field(
            name,
            f"Must be a non-empty string of at most {limit} characters."
            if not allow_empty
            else f"Must be a string of at most {limit} characters.",
        )
    return value


def _bool(fields: dict, name: str) -> bool:
    if not isinstance(fields[name], bool):
        raise ValidationFailed.field(name, "Must be a boolean.")
    return fields[name]


def clean_changes(fields: dict) -> dict:
    """The editable fields present in `fields`, type-checked; raises ValidationFailed naming the field."""
    changes: dict = {}
    for name in EDITABLE:
        if name not in fields:
            continue
        if name in ("is_interactive", "auto_update"):
            changes[name] = _bool(fields, name)
        elif name == "timeout":
            value = fields[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 3600:
                raise ValidationFailed.field(name, "Must be a number of seconds between 0 and 3600.")
            changes[name] = float(value)
        elif name == "auth_method":
            if fields[name] not in AUTH_METHODS:
                raise ValidationFailed.field(name, f'"{fields[name]}" is not a valid choice.')
            changes[name] = fields[name]
        elif name == "extra_params":
            check_size(fields[name], name, EXTRA_PARAMS_MAX_BYTES)  # kept in the backend's item
            changes[name] = fields[name]
        elif name == "title":
            changes[name] = _string(fields, name, TITLE_MAX, allow_empty=False)
        elif name == "description":
            changes[name] = _string(fields, name, DESCRIPTION_MAX)
        else:
            changes[name] = _string(fields, name, 2048)
    return changes


def check_complete(backend: MLBackend, endpoint_prefix: str = "") -> None:
    """What a backend of its kind needs before it can be connected. A deployment may call only SageMaker
    endpoints named with `endpoint_prefix` (its IAM policy says so too): others are refused by name here."""
    if backend.kind == "http":
        if not backend.url:
            raise ValidationFailed.field("url", "This field is required.")
        if backend.auth_method == "BASIC_AUTH" and not backend.basic_auth_user:
            raise ValidationFailed.field("basic_auth_user", "Required with BASIC_AUTH.")
        return
    if not _ENDPOINT_NAME.fullmatch(backend.endpoint_name or ""):
        raise ValidationFailed.field(
            "endpoint_name",
            "A SageMaker endpoint name is required (letters, digits and hyphens, at most 63).",
        )
    if endpoint_prefix and not backend.endpoint_name.startswith(endpoint_prefix):
        raise ValidationFailed.field(
            "endpoint_name",
            f"This installation may only call SageMaker endpoints "
            f"whose names start with {endpoint_prefix!r}.",
        )
    if not _REGION.fullmatch(backend.region or ""):
        raise ValidationFailed.field("region", "An AWS region such as us-east-1 is required.")
    if backend.target_variant and not _VARIANT.fullmatch(backend.target_variant):
        raise ValidationFailed.field("target_variant", "Not a valid production variant name.")


def owns_endpoint(backend: MLBackend, owner_project_id: int | None) -> bool:
    """Whether the backend may train: `http` backends always (a model server keeps each project's model
    apart), `sagemaker` ones only while their project owns the endpoint."""
    return backend.kind != "sagemaker" or owner_project_id == backend.project_id


def read_only_reason(backend: MLBackend, owner_project_id: int | None) -> str:
    where = f"SageMaker endpoint {backend.endpoint_name} in {backend.region}"
    if owner_project_id is None:
        return (
            f"ML backend {backend.id} is read-only: it was registered while another project owned {where}. "
            "That project has released it; register the backend again to own the endpoint and train it."
        )
    return (
        f"ML backend {backend.id} is read-only: {where} belongs to project {owner_project_id}, and only "
        "the project that owns an endpoint may train it. This backend can still predict."
    )


def describe_target(backend: MLBackend) -> str:
    """Where the backend is, for messages (never with credentials)."""
    if backend.kind == "sagemaker":
        return f"SageMaker endpoint {backend.endpoint_name} in {backend.region}"
    return backend.url


def short_error(message: str) -> str:
    return message if len(message) <= ERROR_MAX else message[: ERROR_MAX - 1] + "…"
