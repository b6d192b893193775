"""The FastAPI application: the same app runs in Lambda (through Mangum) and under `labelstack dev`."""

from __future__ import annotations

from fastapi import FastAPI

from functions.api import errors, sessions
from functions.api.middleware import (
    BodyLimit,
    ErrorBoundary,
    JsonBodyCheck,
    SecurityHeaders,
    SlashAgnosticPaths,
    content_security_policy,
    origin_of,
)
from functions.api.routes import (
    data_io,
    data_manager,
    files,
    labeling,
    meta,
    ml,
    projects,
    storages,
    tasks,
    webhooks,
)
from functions.settings import VERSION, get_settings


def create_app() -> FastAPI:
    app = FastAPI(
        title="labelstack",
        version=VERSION,
        redirect_slashes=False,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    errors.install(app)
    for module in (
        meta,
        sessions,
        projects,
        data_io,
        tasks,
        labeling,
        data_manager,
        ml,
        storages,
        webhooks,
        files,
    ):
        app.include_router(module.router)
    # Each add_middleware wraps what is there: the last added runs first.
    app.add_middleware(JsonBodyCheck)  # inside BodyLimit: holds at most the bound
    app.add_middleware(BodyLimit, max_bytes=get_settings().max_request_bytes)
    # Inside SecurityHeaders, so a 500 or 503 carries them too.
    app.add_middleware(ErrorBoundary)
    # The policy pages are served with; `labelstack dev` puts it in index.html's <meta> too.
    app.state.content_security_policy = content_security_policy(_media_origins())
    app.add_middleware(
        SecurityHeaders, policy=app.state.content_security_policy, exempt_prefixes=("/api/docs",)
    )
    # Outermost, so every route sees the path without its trailing slash.
    app.add_middleware(SlashAgnosticPaths)
    return app


def _media_origins() -> tuple[str, ...]:
    """Where task media comes from besides our origin and https URLs: the AWS emulator of a local stack
    (`aws_endpoint_url`), whose presigned URLs are plain http on 127.0.0.1. In AWS there is none."""
    endpoint = get_settings().aws_endpoint_url
    return (origin_of(endpoint),) if endpoint else ()
