"""The FastAPI application: the same app runs in Lambda (through Mangum) and under `labelstack dev`."""

from __future__ import annotations

from fastapi import FastAPI

from functions.api import errors, openapi, sessions
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
    accounts,
    data_io,
    data_manager,
    dm_views,
    drafts,
    files,
    labeling,
    meta,
    ml,
    projects,
    storages,
    tasks,
    uploads,
    webhooks,
)
from functions.settings import VERSION, get_settings

DESCRIPTION = """Label Studio's API: its paths, JSON and status codes, so Label Studio's SDKs and ML backends
work unchanged.

Authenticate with `Authorization: Token <API key>` (see it at GET /api/current-user/token, reset it at
POST /api/current-user/reset-token), or
with `Authorization: Bearer <access token>` from a personal access token (POST /api/token, then
POST /api/token/refresh). Paths answer with or without a trailing slash. Errors are Label Studio's
envelope: `detail`, and on a 400 `validation_errors` naming each field that is wrong."""

# The sections of /api/docs, in reading order.
TAGS = [
    {"name": "Service", "description": "Whether the service is up, and its version."},
    {"name": "Sessions", "description": "The web UI's browser sessions (a cookie with a CSRF token)."},
    {"name": "Users", "description": "The caller, and the installation's users (admins manage them)."},
    {"name": "Tokens", "description": "API keys, personal access tokens and access tokens."},
    {"name": "Invites", "description": "Invitation links, and signing up with one."},
    {"name": "Projects", "description": "Projects: settings, label config and members."},
    {"name": "Import", "description": "Tasks in: JSON or files, with annotations and predictions."},
    {
        "name": "Export",
        "description": "Tasks out: a one-request download, or snapshots built in the background.",
    },
    {"name": "Tasks", "description": "Tasks, and task lists filtered by Data Manager queries."},
    {"name": "Annotations", "description": "Annotations of tasks."},
    {"name": "Predictions", "description": "Model predictions attached to tasks."},
    {"name": "Label stream", "description": "The next task to label."},
    {"name": "Reviews", "description": "Reviewers accept or reject annotations."},
    {"name": "Agreement", "description": "How much annotators agree."},
    {"name": "Data Manager", "description": "Saved views (tabs) of a project's tasks, and bulk actions."},
    {"name": "ML", "description": "ML backends: Label Studio's protocol over HTTP, or SageMaker endpoints."},
    {"name": "Storages", "description": "S3 source storages (objects in as tasks) and target storages."},
    {"name": "Webhooks", "description": "Signed event deliveries to other services."},
]


def create_app() -> FastAPI:
    app = FastAPI(
        title="labelstack",
        description=DESCRIPTION,
        version=VERSION,
        openapi_tags=TAGS,
        redirect_slashes=False,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
        # A JSON body sent without a Content-Type is read as JSON, as it always was here.
        strict_content_type=False,
    )
    errors.install(app)
    openapi.install(app)
    for module in (
        meta,
        sessions,
        accounts,
        projects,
        data_io,
        uploads,
        tasks,
        drafts,
        labeling,
        data_manager,
        dm_views,
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
