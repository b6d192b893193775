"""Service metadata, the current user, tokens and users."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from functions.api import sessions
from functions.api.auth import CurrentUser
from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import COMMON_ERRORS, EmptyObject, ObjectId, error_responses
from functions.api.schemas.meta import Health, Version
from functions.api.schemas.users import (
    AccessToken,
    ApiKey,
    CreatedPersonalAccessToken,
    CreatedUser,
    PatchedUserRequest,
    PersonalAccessToken,
    RefreshRequest,
    UpdatedUser,
    User,
    UserRequest,
)
from functions.domain.ls_json import user_json
from functions.services import identity
from functions.settings import VERSION

router = APIRouter(route_class=LabelStudioRoute)


@router.get("/health", response_model=Health, tags=["Service"])
def health():
    """Whether the service answers (no credentials needed)."""
    return {"status": "UP"}


@router.get("/api/version", response_model=Version, tags=["Service"])
def version():
    """The version, in Label Studio's shape (no credentials needed)."""
    # `label-studio-sdk` reads `edition`: "Community" makes exports take the one-request sync path.
    return {
        "release": VERSION,
        "label-studio-os-package": {
            "version": VERSION,
            "short_version": VERSION.rsplit(".", 1)[0],
            "latest_version_from_pypi": None,
            "latest_version_upload_time": None,
            "current_version_is_outdated": False,
        },
        "label-studio-os-backend": {
            "message": "labelstack",
            "commit": "",
            "date": "",
            "branch": "",
            "version": VERSION,
        },
        "edition": "Community",
        "labelstack": {"version": VERSION},
    }


@router.get("/api/current-user/whoami", response_model=User, tags=["Users"], responses=COMMON_ERRORS)
def whoami(user: CurrentUser):
    """The caller."""
    return user_json(user)


@router.post("/api/current-user/reset-token", response_model=ApiKey, tags=["Tokens"], responses=COMMON_ERRORS)
def reset_token(user: CurrentUser):
    """A new API key for the caller. Every credential minted before it stops working: the old key, web
    sessions, personal access tokens and their access tokens."""
    return {"token": identity.reset_legacy_token(user)}


@router.post(
    "/api/current-user/sign-out-everywhere", response_model=ApiKey, tags=["Tokens"], responses=COMMON_ERRORS
)
def sign_out_everywhere(request: Request, response: Response, user: CurrentUser):
    """Everything reset-token does (every session, personal access token and access token dies, and the
    API key is replaced, since a leaked key could mint them again), under the name people look for; the
    new key is in the answer, and a browser's own cookie is cleared."""
    token = identity.reset_legacy_token(user)
    sessions.forget_cookie(request, response)
    return {"token": token}


@router.get("/api/token", response_model=list[PersonalAccessToken], tags=["Tokens"], responses=COMMON_ERRORS)
def list_tokens(user: CurrentUser):
    """The caller's live personal access tokens: ids and dates, never the tokens."""
    return identity.personal_access_tokens(user)


@router.post(
    "/api/token",
    status_code=201,
    response_model=CreatedPersonalAccessToken,
    tags=["Tokens"],
    responses=COMMON_ERRORS,
)
def create_token(user: CurrentUser):
    """A personal access token (a refresh JWT), shown this once."""
    return identity.create_personal_access_token(user)


@router.post(
    "/api/token/blacklist",
    response_model=EmptyObject,
    tags=["Tokens"],
    responses=error_responses(400, 401, 403, 404, 413),
)
async def blacklist_token(body: RefreshRequest, user: CurrentUser):
    """Revoke one of the caller's personal access tokens, named by the token itself."""
    await run_in_threadpool(identity.revoke_personal_access_token, user, body.refresh)
    return {}


@router.delete("/api/token/{jti}", status_code=204, tags=["Tokens"], responses=COMMON_ERRORS)
def revoke_token(jti: str, user: CurrentUser):
    """Revoke one of the caller's personal access tokens by its id."""
    identity.revoke_personal_access_token_by_id(user, jti)
    return Response(status_code=204)


@router.post(
    "/api/token/refresh",
    response_model=AccessToken,
    tags=["Tokens"],
    responses=error_responses(400, 401, 413),
)
async def refresh_token(body: RefreshRequest):
    """Trade a personal access token for a short-lived access token (no other credentials needed)."""
    return {"access": await run_in_threadpool(identity.refresh_access_token, body.refresh)}


@router.get("/api/users", response_model=list[User], tags=["Users"], responses=COMMON_ERRORS)
def list_users(user: CurrentUser):
    """Every user (admins and managers)."""
    return [user_json(u) for u in identity.list_users(user)]


@router.post(
    "/api/users",
    status_code=201,
    response_model=CreatedUser,
    tags=["Users"],
    responses=error_responses(400, 401, 403, 404, 409, 413),
)
async def create_user(body: UserRequest, user: CurrentUser):
    """Create a user (admins), optionally with a `password` for the web UI (never answered); the answer
    has the new user's API token, shown this once."""
    created = await run_in_threadpool(
        identity.create_user,
        user,
        body.email,
        body.role or "annotator",
        body.first_name or "",
        body.last_name or "",
        body.username or "",
        body.password,
    )
    # The new user's API token, shown this once (only its hash is stored).
    token = await run_in_threadpool(identity.reset_legacy_token, created)
    return {**user_json(created), "token": token}


@router.get("/api/users/{user_id}", response_model=User, tags=["Users"], responses=COMMON_ERRORS)
def get_user(user_id: ObjectId, user: CurrentUser):
    """A user (admins and managers)."""
    return user_json(identity.get_user(user, user_id))


@router.patch(
    "/api/users/{user_id}",
    response_model=UpdatedUser,
    tags=["Users"],
    responses=error_responses(400, 401, 403, 404, 413),
)
async def update_user(user_id: ObjectId, body: PatchedUserRequest, user: CurrentUser):
    """Change a user (admins): names, `role`, `password` (write-only; ends the user's browser sessions),
    and `is_active` to deactivate or reactivate. Not one's own role or password."""
    updated, token = await run_in_threadpool(identity.update_user, user, user_id, body.sent())
    # Reactivation issues a new API token, shown this once, as at creation.
    return {**user_json(updated), "token": token} if token else user_json(updated)
