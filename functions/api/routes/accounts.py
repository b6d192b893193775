"""The caller's own account (API key, password) and invitations: making them and signing up with one."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from functions.api import sessions
from functions.api.auth import CurrentUser
from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import COMMON_ERRORS, error_responses
from functions.api.schemas.users import (
    ApiKey,
    BrowserSession,
    Invite,
    InviteDetails,
    InviteRequest,
    InviteToken,
    PasswordChange,
    PasswordStatus,
    SignUpRequest,
)
from functions.domain import passwords
from functions.services import identity, invites
from functions.services import passwords as password_service

router = APIRouter(route_class=LabelStudioRoute)


@router.get("/api/current-user/token", response_model=ApiKey, tags=["Tokens"], responses=COMMON_ERRORS)
def current_token(user: CurrentUser):
    """The caller's API key, `{"token": ...}` as Label Studio answers it. 404 for a key that cannot be
    shown again (the installer's): reset it to get one that can."""
    return {"token": identity.legacy_token(user)}


def _password_status(has_password: bool) -> dict:
    return {
        "has_password": has_password,
        "min_length": passwords.MIN_LENGTH,
        "max_length": passwords.MAX_LENGTH,
    }


@router.get(
    "/api/current-user/password", response_model=PasswordStatus, tags=["Users"], responses=COMMON_ERRORS
)
def password_status(user: CurrentUser):
    """Whether the caller has a password, and the length a password must have."""
    return _password_status(password_service.has_password(user))


@router.post(
    "/api/current-user/password",
    response_model=PasswordStatus,
    tags=["Users"],
    responses=error_responses(400, 401, 403, 413, 429),
)
async def change_password(body: PasswordChange, request: Request, user: CurrentUser):
    """Set or change the caller's password. One the caller has must be sent as `old_password` (a wrong one
    is a 400 on that field, and slows the account like a failed sign-in). The caller's other browser
    sessions end; API keys and personal access tokens stay."""
    keep = request.cookies.get(sessions.COOKIE) if not request.headers.get("authorization") else None
    await run_in_threadpool(password_service.change_password, user, body.old_password, body.password, keep)
    return _password_status(True)


@router.get("/api/invite", response_model=Invite, tags=["Invites"], responses=COMMON_ERRORS)
def get_invite(user: CurrentUser):
    """Label Studio's invite link, `{invite_url, token}`: here a new link for one annotator (each link is
    used once, and only its hash is kept, so an earlier one cannot be shown again). Admins."""
    return invites.create_invite(user)


@router.post(
    "/api/invite",
    status_code=201,
    response_model=Invite,
    tags=["Invites"],
    responses=error_responses(400, 401, 403, 404, 413),
)
async def create_invite(body: InviteRequest, user: CurrentUser):
    """A sign-up link for one person, with a `role` (annotator when left out), optionally a `project`
    they join and the one `email` that may use it. Admins invite anyone; managers invite annotators and
    reviewers into a project they manage. Used once; expires after LABELSTACK_INVITE_DAYS."""
    return await run_in_threadpool(
        invites.create_invite, user, body.role or "annotator", body.project, body.email
    )


@router.post(
    "/api/invite/reset-token",
    status_code=201,
    response_model=Invite,
    tags=["Invites"],
    responses=COMMON_ERRORS,
)
def reset_invites(user: CurrentUser):
    """Revoke every open invitation link (Label Studio's reset of the invite token); the answer is a new
    annotator link. Admins."""
    return invites.reset_invites(user)


@router.post(
    "/api/invite/check",
    response_model=InviteDetails,
    tags=["Invites"],
    responses=error_responses(400, 413),
)
async def check_invite(body: InviteToken):
    """What an invitation carries, for the sign-up page (no credentials needed): its role, project and
    email, or a 400 on `token` when it cannot be used."""
    return await run_in_threadpool(invites.describe, body.token)


@router.post(
    "/api/signup",
    status_code=201,
    response_model=BrowserSession,
    dependencies=[sessions.JsonOnly],
    tags=["Invites"],
    responses=error_responses(400, 413),
)
async def sign_up(body: SignUpRequest, request: Request, response: Response):
    """Sign up with an invitation (no credentials needed): a new user with the invitation's role and
    project and this password, signed in to the browser at once (a session, as POST /api/session)."""
    user = await run_in_threadpool(
        invites.sign_up, body.token, body.email, body.password, body.first_name or "", body.last_name or ""
    )
    return await run_in_threadpool(sessions.open_session, request, response, user)
