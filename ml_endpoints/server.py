"""One HTTP server for one model, answering two contracts with the same JSON.

- Label Studio's ML backend: `GET /` and `/health`, `POST /setup`, `/predict`, `/webhook` (training
  events call `fit`), the legacy `POST /train`, and `GET /metrics`.
- SageMaker hosting: `GET /ping`, `POST /invocations` taking the `/predict` body and answering its
  answer, and `POST /endpoints/{name}/invocations`, the path `sagemaker-runtime` InvokeEndpoint posts to,
  so boto3 with `endpoint_url` pointed here behaves as it does against a real endpoint (model errors
  come back as `ModelError`, 424).

A new model instance serves each request, as in Label Studio's SDK (models keep state in `get`/`set`
and their model dir); built-in models keep their loaded artifact in memory until the file changes.
Label Studio's routes are per project (each request names it): a `LabelStudioMLBase` model gets the
project's own model dir, so training from one project never changes what another is served. SageMaker's
routes serve the endpoint's model, the artifact in `MODEL_DIR` itself, whichever project asks.
Basic auth (`BASIC_AUTH_USER`/`BASIC_AUTH_PASS`, as Label Studio's SDK) guards every route but `/ping`;
InvokeEndpoint cannot send it, so leave it unset where a `sagemaker`-kind backend calls this server.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import os
import secrets
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from functions.domain.errors import ValidationFailed
from ml_endpoints import protocol
from ml_endpoints.model import LabelStudioMLBase, project_model_dir
from ml_endpoints.protocol import BadRequest

logger = logging.getLogger(__name__)

DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024
_OPEN_PATHS = frozenset({"/ping"})


class _TooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"request bodies are limited to {limit} bytes")
        self.limit = limit


def create_app(
    model: Callable[..., Any],
    *,
    basic_auth_user: str | None = None,
    basic_auth_pass: str | None = None,
    max_request_bytes: int | None = None,
) -> FastAPI:
    """The server for `model`: a `LabelStudioMLBase` subclass, or any callable
    `model(project_id=..., label_config=...)` returning an object with the same methods."""
    user = basic_auth_user if basic_auth_user is not None else os.environ.get("BASIC_AUTH_USER")
    password = basic_auth_pass if basic_auth_pass is not None else os.environ.get("BASIC_AUTH_PASS")
    limit = max_request_bytes or int(os.environ.get("ML_MAX_REQUEST_BYTES") or DEFAULT_MAX_REQUEST_BYTES)
    model_class = getattr(model, "__name__", type(model).__name__)
    train_events = tuple(getattr(model, "TRAIN_EVENTS", LabelStudioMLBase.TRAIN_EVENTS))
    # Other callables get the project id and keep projects apart themselves.
    gets_model_dir = isinstance(model, type) and issubclass(model, LabelStudioMLBase)
    app = FastAPI(
        title=f"labelstack model server: {model_class}", docs_url=None, redoc_url=None, openapi_url=None
    )

    @app.middleware("http")
    async def basic_auth(request: Request, call_next):
        if (
            user
            and password
            and request.url.path not in _OPEN_PATHS
            and not _credentials_match(request.headers.get("authorization"), user, password)
        ):
            return JSONResponse(
                {"status": 401, "detail": "basic authentication required"},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="model"'},
            )
        return await call_next(request)

    async def body_of(request: Request) -> Any:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise _TooLarge(limit)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _TooLarge(limit)
            chunks.append(chunk)
        try:
            return json.loads(b"".join(chunks) or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest("body", f"is not valid JSON: {exc}") from None

    def build(
        project_id: str | None,
        label_config: str | None,
        field: str = "label_config",
        *,
        endpoint: bool = False,
    ):
        """A model instance for one request: the project's own model, or with `endpoint` (SageMaker's
        routes), the endpoint's model. A request without a project uses `MODEL_DIR` itself."""
        place = {}
        if gets_model_dir and project_id and not endpoint:
            place["model_dir"] = str(project_model_dir(project_id))
        try:
            return model(project_id=project_id, label_config=label_config, **place)
        except ValidationFailed as exc:
            messages = next(iter(exc.errors.values()), [exc.detail])
            raise BadRequest(field, "; ".join(messages)) from None

    def predict(body: Any, *, endpoint: bool = False) -> dict:
        request = protocol.parse_predict(body)
        instance = build(request.project_id, request.label_config, endpoint=endpoint)
        output = instance.predict(request.tasks, context=request.context, **request.params)
        return protocol.predict_response(output, instance.model_version)

    def setup(body: Any) -> dict:
        request = protocol.parse_setup(body)
        instance = build(request.project_id, request.label_config, "schema")
        if request.extra_params:
            try:
                instance.set_extra_params(request.extra_params)
            except ValueError:
                raise BadRequest("extra_params", "must be JSON (a JSON string or an object)") from None
            instance = build(request.project_id, request.label_config, "schema")  # setup() sees them
        return {"model_version": instance.model_version}

    def train(event: protocol.TrainingEvent) -> Any:
        instance = build(event.project_id, event.label_config, "project.label_config")
        if hasattr(instance, "train_on"):
            return instance.train_on(event.event, event.data, tasks=event.tasks)
        return instance.fit(event.event, event.data)

    async def run(request: Request, work: Callable[..., Any], **options):
        return await run_in_threadpool(functools.partial(work, **options), await body_of(request))

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest):
        return _error(request, 400, f"{exc.field}: {exc.message}", {exc.field: [exc.message]})

    @app.exception_handler(_TooLarge)
    async def too_large(request: Request, exc: _TooLarge):
        return _error(request, 413, str(exc), {"body": [str(exc)]})

    @app.exception_handler(Exception)
    async def model_failed(request: Request, exc: Exception):
        logger.exception("model %s failed on %s", model_class, request.url.path)
        # Label Studio's SDK answers `<ExcClass>: <message>`; no traceback, which may carry task data.
        return _error(request, 500, f"{type(exc).__name__}: {exc}")

    @app.get("/")
    @app.get("/health")
    async def health():
        return {"status": "UP", "model_class": model_class}

    @app.get("/metrics")
    async def metrics():
        return {}

    @app.post("/setup")
    async def setup_route(request: Request):
        return await run(request, setup)

    @app.post("/predict")
    async def predict_route(request: Request):
        return await run(request, predict)

    @app.post("/webhook")
    async def webhook(request: Request):
        event = protocol.parse_webhook(await body_of(request), train_events)
        if event is None:
            return JSONResponse({"status": "Unknown event"}, status_code=200)
        result = await run_in_threadpool(train, event)
        return JSONResponse(_json_or_error(result), status_code=201)

    @app.post("/train")
    async def legacy_train(request: Request):
        result = await run_in_threadpool(train, protocol.parse_train(await body_of(request)))
        return JSONResponse(_json_or_error(result), status_code=201)

    @app.get("/ping")
    async def ping():
        # The class is loaded (create_app has it); a model whose artifact can be checked without a
        # label config says whether it can serve through `check_ready`.
        try:
            await run_in_threadpool(getattr(model, "check_ready", lambda: None))
        except Exception as exc:
            logger.exception("model %s cannot serve", model_class)
            return JSONResponse({"status": "DOWN", "detail": f"{type(exc).__name__}: {exc}"}, status_code=503)
        return {"status": "UP", "model_class": model_class}

    @app.post("/invocations")
    async def invocations(request: Request):
        return await run(request, predict, endpoint=True)

    @app.post("/endpoints/{endpoint_name}/invocations")
    async def runtime_invoke_endpoint(endpoint_name: str, request: Request):
        variant = {"x-Amzn-Invoked-Production-Variant": "AllTraffic"}
        try:
            return JSONResponse(await run(request, predict, endpoint=True), headers=variant)
        except (BadRequest, _TooLarge) as exc:
            return _model_error(endpoint_name, 400 if isinstance(exc, BadRequest) else 413, str(exc))
        except Exception as exc:
            logger.exception("model %s failed on endpoint %s", model_class, endpoint_name)
            return _model_error(endpoint_name, 500, f"{type(exc).__name__}: {exc}")

    return app


def _credentials_match(header: str | None, user: str, password: str) -> bool:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given_user, _, given_password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return secrets.compare_digest(given_user.encode(), user.encode()) & secrets.compare_digest(
        given_password.encode(), password.encode()
    )


def _error(request: Request, status: int, detail: str, validation_errors: dict | None = None) -> JSONResponse:
    body = {"status": status, "status_code": status, "detail": detail}
    if validation_errors:
        body["validation_errors"] = validation_errors
    return JSONResponse(body, status_code=status)


def _model_error(endpoint_name: str, status: int, message: str) -> JSONResponse:
    """What InvokeEndpoint answers when the container fails: 424 ModelError with the container's status."""
    kind = "client" if status < 500 else "server"
    body = {
        "message": f'Received {kind} error ({status}) from primary with message "{message}".',
        "OriginalStatusCode": status,
        "OriginalMessage": message,
        "LogStreamArn": f"arn:aws:logs:local:000000000000:log-group:/aws/sagemaker/Endpoints/{endpoint_name}",
    }
    return JSONResponse(body, status_code=424, headers={"x-amzn-ErrorType": "ModelError"})


def _json_or_error(result: Any) -> dict:
    """Label Studio's SDK: `{"result", "status": "ok"}`, or an error when the result is not JSON."""
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        return {"error": f"fit returned a result that is not JSON: {exc}", "status": "error"}
    return {"result": result, "status": "ok"}
