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
import math
import time
from functools import lru_cache

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    IncompleteReadError,
    ReadTimeoutError,
)

from functions.domain.ml_backend import MLBackend
from functions.domain.records import Project
from functions.ml.protocol import BackendDown, predict_request
from functions.ml.responses import BackendError, answer_version, parse_json, results_of
from functions.settings import Settings


@lru_cache(maxsize=32)
def _client(
    service: str,
    region: str,
    endpoint_url: str | None,
    connect_timeout: float,
    read_timeout: float,
    attempts: int,
):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"mode": "standard", "total_max_attempts": attempts},
        ),
    )


def _aws_reason(exc: Exception, timeout: float | None = None) -> str:
    """A short reason a person can act on."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = str(error.get("Message") or "").strip()
        if not message:  # not an AWS error body: a proxy's or the container's own
            return f"the endpoint answered HTTP {status or error.get('Code', '?')}"
        return f"{error.get('Code', 'Error')}: {message}"
    if isinstance(exc, ReadTimeoutError):
        return f"timed out after {timeout:g} s" if timeout else "timed out"
    if isinstance(exc, ConnectionClosedError):
        return "connection reset or closed by the endpoint before it answered"
    if isinstance(exc, IncompleteReadError):
        got, announced = exc.kwargs.get("actual_bytes"), exc.kwargs.get("expected_bytes")
        return f"the answer was cut off after {got} of the {announced} bytes announced"
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
            s.ml_retries + 1,
        )

    def _runtime(self, timeout: float):
        """The runtime client never retries by itself: an invocation that reached the endpoint is not
        sent again (a hanging model would take the timeout three times over); `predict` retries failed
        connections. Timeouts are whole seconds, so a few clients serve every call."""
        s = self.settings
        return _client(
            "sagemaker-runtime",
            self.backend.region,
            s.sagemaker_runtime_url or s.aws_endpoint_url,
            s.ml_connect_timeout,
            float(max(1, math.ceil(timeout))),
            1,
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
        where = f"InvokeEndpoint {self.backend.endpoint_name}"
        deadline = time.monotonic() + read_timeout
        for attempt in range(self.settings.ml_retries + 1):
            try:
                answer = self._runtime(read_timeout).invoke_endpoint(**params)
                body = self._read(answer["Body"], deadline, read_timeout)
                break
            except (EndpointConnectionError, ConnectTimeoutError) as exc:
                if attempt == self.settings.ml_retries:
                    raise BackendDown(f"{where}: {_aws_reason(exc)}") from None
            except ClientError as exc:
                raise BackendError(f"{where}: {_aws_reason(exc)}") from None
            except BotoCoreError as exc:
                raise BackendDown(f"{where}: {_aws_reason(exc, read_timeout)}") from None
        parsed = parse_json(body, "the endpoint's answer")
        return results_of(parsed), answer_version(parsed)

    def _read(self, stream, deadline: float, timeout: float) -> bytes:
        """The answer's body, bounded in size and time; one read past its end checks its length."""
        limit = self.settings.ml_max_response_bytes
        chunks, size = [], 0
        while chunk := stream.read(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise BackendError(f"the endpoint answered more than {limit} bytes")
            if time.monotonic() > deadline:
                raise BackendError(f"timed out after {timeout:g} s while reading the answer")
            chunks.append(chunk)
        return b"".join(chunks)

    def versions(self) -> list[str] | None:
        return None  # an endpoint runs one deployment; its versions are the backend's model_version
