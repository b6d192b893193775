"""The client for an ML backend, by its kind: `http` (Label Studio's protocol, http_backend.py) or
`sagemaker` (the same `/predict` JSON through InvokeEndpoint, sagemaker_backend.py). Both answer
protocol.MLClient."""

from __future__ import annotations

from functions.domain.ml_backend import MLBackend
from functions.ml.http_backend import HttpBackend
from functions.ml.protocol import MLClient
from functions.ml.sagemaker_backend import SageMakerBackend
from functions.settings import Settings, get_settings

CLIENT_CLASSES: dict[str, type[HttpBackend] | type[SageMakerBackend]] = {
    "http": HttpBackend,
    "sagemaker": SageMakerBackend,
}


def client_for(backend: MLBackend, settings: Settings | None = None) -> MLClient:
    return CLIENT_CLASSES[backend.kind](backend, settings or get_settings())
