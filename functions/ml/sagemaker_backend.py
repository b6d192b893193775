"""The `sagemaker` kind: the `/predict` JSON of Label Studio's protocol, sent to a SageMaker endpoint.

Readiness is DescribeEndpoint (the endpoint must be InService); predictions are InvokeEndpoint with
ContentType application/json and the same body an `http` backend gets on `/predict`, and the answer is
read the same way. The model version is the endpoint's current endpoint config: a new deployment (a new
config) is a new version, so retrieving predictions again re-predicts the tasks.

The runtime's endpoint URL is a setting (`LABELSTACK_SAGEMAKER_RUNTIME_URL`), so the local stack can send
invocations to its local model server; DescribeEndpoint goes to the AWS endpoint override, as every other
AWS call does. Those URLs are the operator's, not users', so they are not SSRF-guarded; the endpoint
name and region users give are checked in functions/domain/ml_backend.py.
"""

from __future__ import annotations

import json
from functools import cache

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from functions.domain.ml_backend import MLBackend
from functions.domain.records import Project
from functions.ml.protocol import BackendDown, predict_request
from functions.ml.responses import BackendError, parse_json, results_of
from functions.settings import Settings


@cache
def _client(
    service: str,
    region: str,
    endpoint_url: str | None,
    connect_timeout: float,
    read_timeout: float,
    retries: int,
):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"mode": "standard", "total_max_attempts": retries + 1},
        ),
    )


def _aws_reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
    return str(exc)


class SageMakerBackend:
    def __init__(self, backend: MLBackend, settings: Settings):
        self.backend = backend
        self.settings = settings

    def _control(self):
        s = self.settings
        return _client(
            "sagemaker",
            self.backend.region,
            s.aws_endpoint_url,
            s.ml_connect_timeout,
            s.ml_setup_timeout,
            s.ml_retries,
        )

    def _runtime(self, timeout: float):
        s = self.settings
        return _client(
            "sagemaker-runtime",
            self.backend.region,
            s.sagemaker_runtime_url or s.aws_endpoint_url,
            s.ml_connect_timeout,
            timeout,
            s.ml_retries,
        )

    def describe(self) -> dict:
        try:
            return self._control().describe_endpoint(EndpointName=self.backend.endpoint_name)
        except ClientError as exc:
            raise BackendError(f"DescribeEndpoint {self.backend.endpoint_name}: {_aws_reason(exc)}") from None
        except BotoCoreError as exc:
            raise BackendDown(f"DescribeEndpoint {self.backend.endpoint_name}: {_aws_reason(exc)}") from None

    def setup(self, project: Project) -> str:
        endpoint = self.describe()
        status = endpoint.get("EndpointStatus")
        if status != "InService":
            raise BackendDown(f"endpoint {self.backend.endpoint_name} is {status}, not InService")
        return str(endpoint.get("EndpointConfigName") or "")

    def predict(
        self,
        project: Project,
        tasks: list[dict],
        *,
        context: dict | None = None,
        timeout: float | None = None,
    ) -> tuple[list, str | None]:
        read_timeout = timeout or self.backend.timeout or self.settings.ml_predict_timeout
        params = {
            "EndpointName": self.backend.endpoint_name,
            "ContentType": "application/json",
            "Accept": "application/json",
            "Body": json.dumps(predict_request(project, tasks, context), ensure_ascii=False).encode(),
        }
        if self.backend.target_variant:
            params["TargetVariant"] = self.backend.target_variant
        try:
            answer = self._runtime(read_timeout).invoke_endpoint(**params)
            body = answer["Body"].read(self.settings.ml_max_response_bytes + 1)
        except ClientError as exc:
            raise BackendError(f"InvokeEndpoint {self.backend.endpoint_name}: {_aws_reason(exc)}") from None
        except BotoCoreError as exc:
            raise BackendDown(f"InvokeEndpoint {self.backend.endpoint_name}: {_aws_reason(exc)}") from None
        if len(body) > self.settings.ml_max_response_bytes:
            raise BackendError(f"the endpoint answered more than {self.settings.ml_max_response_bytes} bytes")
        parsed = parse_json(body, "the endpoint's answer")
        version = parsed.get("model_version") if isinstance(parsed, dict) else None
        return results_of(parsed), (str(version) if version is not None else None)

    def versions(self) -> list[str] | None:
        return None  # an endpoint runs one deployment; its versions are the backend's model_version
