"""ML backends: Label Studio's backend JSON (plus the `sagemaker` kind), their versions and training
runs, the test prediction, interactive pre-annotation and background prediction jobs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from functions.api.schemas.common import (
    BodyBool,
    BodyInt,
    RequestBody,
    ResponseBody,
    StrictFiniteFloat,
    Timestamp,
    optional,
)


class PatchedMLBackendRequest(RequestBody):
    """A backend's fields. Changing where it is (url, credentials, endpoint) connects it again, as Label
    Studio does; a backend that does not answer is not saved."""

    kind: Literal["http", "sagemaker"] | None = Field(
        None,
        description="http (Label Studio's ML backend protocol, the default) or sagemaker (a SageMaker "
        "endpoint speaking the same /predict JSON). Cannot change.",
    )
    title: str = optional("At most 500 characters.")
    description: str | None = None
    url: str | None = Field(None, description="The http backend's base URL.")
    auth_method: Literal["NONE", "BASIC_AUTH"] = optional()
    basic_auth_user: str | None = None
    basic_auth_pass: str | None = Field(None, description="Write-only: never shown again.")
    extra_params: Any = Field(None, description="Any JSON; sent to the backend's /setup.")
    is_interactive: BodyBool = optional("Used for interactive pre-annotation.")
    auto_update: BodyBool = optional("Follow the model version the backend reports.")
    model_version: str | None = None
    timeout: StrictFiniteFloat = optional("Seconds to wait for a prediction, up to 3600.")
    endpoint_name: str | None = Field(None, description="sagemaker: the endpoint's name.")
    region: str | None = Field(None, description="sagemaker: the endpoint's AWS region.")
    target_variant: str | None = Field(None, description="sagemaker: a production variant to call.")


class MLBackendRequest(PatchedMLBackendRequest):
    project: BodyInt


class MLBackend(ResponseBody):
    id: int
    state: str = Field(description="CO connected, DI disconnected, ER error, TR training, PR predicting.")
    readable_state: str
    is_interactive: bool
    url: str
    error_message: str | None
    title: str
    auth_method: str
    basic_auth_user: str
    basic_auth_pass_is_set: bool
    description: str
    extra_params: Any
    model_version: str
    timeout: float
    created_at: Timestamp
    updated_at: Timestamp
    auto_update: bool
    project: int
    kind: str
    read_only: bool = Field(
        description="Another project owns this backend's SageMaker endpoint: it predicts, never trains."
    )
    endpoint_name: str | None = Field(None, description="sagemaker backends only.")
    region: str | None = Field(None, description="sagemaker backends only.")
    target_variant: str | None = Field(None, description="sagemaker backends only.")


class ModelVersions(ResponseBody):
    versions: list[str]
    message: str | None = Field(None, description="Why only the current version is listed.")


class Training(ResponseBody):
    id: int
    ml_backend: int
    project: int
    kind: str
    trigger: str = Field(description="annotations (enough new ones arrived) or manual.")
    status: str = Field(description="running, completed or failed.")
    started_at: Timestamp
    finished_at: Timestamp | None
    annotations: int = Field(description="The project's annotations when the run started.")
    model_version: str | None
    metrics: dict[str, Any]
    error: str | None
    execution: str | None


class PredictTest(ResponseBody):
    """One random task through the backend's /predict, the whole exchange."""

    status: int
    error_message: str | None
    url: str
    task: dict[str, Any]
    request: dict[str, Any]
    response: Any


class InteractiveRequest(RequestBody):
    task: BodyInt
    context: dict[str, Any] | None = Field(None, description="What the annotator did (a click, a box).")


class InteractiveResult(ResponseBody):
    """`data`, the backend's prediction for the task; or, as Label Studio answers (200, so the editor
    keeps working), `errors`."""

    data: dict[str, Any] | None = None
    errors: list[str] | None = None


class PredictionJob(ResponseBody):
    id: int
    ml_backend: int
    status: str = Field(description="running, completed or failed.")
    total: int
    processed: int
    predictions: int
    skipped: int
    calls: int
    error: str | None
    created_at: Timestamp
    finished_at: Timestamp | None
