"""Service metadata, the current user, tokens and users."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from functions.api import sessions
from functions.api.auth import current_user
from functions.api.bodies import json_body
from functions.domain.ls_json import user_json
from functions.domain.records import User
from functions.services import identity
from functions.settings import VERSION

router = APIRouter()


@router.get("/health")
def health():
    return {"status": "UP"}


@router.get("/api/version")
def version():
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


@router.get("/api/current-user/whoami")
def whoami(user: User = Depends(current_user)):
    return user_json(user)


@router.post("/api/current-user/reset-token")
def reset_token(user: User = Depends(current_user)):
    return {"token": identity.reset_legacy_token(user)}


@router.post("/api/current-user/sign-out-everywhere")
def sign_out_everywhere(request: Request, response: Response, user: User = Depends(current_user)):
    """Everything reset-token does (every session, personal access token and access token dies, and the
    API key is replaced, since a leaked key could mint them again), under the name people look for; the
    new key is in the answer, and a browser's own cookie is cleared."""
    token = identity.reset_legacy_token(user)
    sessions.forget_cookie(request, response)
    return {"token": token}


@router.get("/api/token")
def list_tokens(user: User = Depends(current_user)):
    return identity.personal_access_tokens(user)


@router.post("/api/token", status_code=201)
def create_token(user: User = Depends(current_user)):
    return identity.create_personal_access_token(user)


@router.post("/api/token/blacklist")
async def blacklist_token(request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    await run_in_threadpool(identity.revoke_personal_access_token, user, body.get("refresh"))
    return {}


@router.delete("/api/token/{jti}", status_code=204)
def revoke_token(jti: str, user: User = Depends(current_user)):
    identity.revoke_personal_access_token_by_id(user, jti)
    return Response(status_code=204)


@router.post("/api/token/refresh")
async def refresh_token(request: Request):
    body = await json_body(request)
    return {"access": await run_in_threadpool(identity.refresh_access_token, body.get("refresh"))}


@router.get("/api/users")
def list_users(user: User = Depends(current_user)):
    return [user_json(u) for u in identity.list_users(user)]


@router.post("/api/users", status_code=201)
async def create_user(request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    created = await run_in_threadpool(
        identity.create_user,
        user,
        str(body.get("email") or ""),
        str(body.get("role") or "annotator"),
        str(body.get("first_name") or ""),
        str(body.get("last_name") or ""),
        str(body.get("username") or ""),
    )
    # The new user's API token, shown this once (only its hash is stored).
    token = await run_in_threadpool(identity.reset_legacy_token, created)
    return {**user_json(created), "token": token}


@router.get("/api/users/{user_id}")
def get_user(user_id: int, user: User = Depends(current_user)):
    return user_json(identity.get_user(user, user_id))


@router.patch("/api/users/{user_id}")
async def update_user(user_id: int, request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    updated, token = await run_in_threadpool(identity.update_user, user, user_id, body)
    # Reactivation issues a new API token, shown this once, as at creation.
    return {**user_json(updated), "token": token} if token else user_json(updated)
