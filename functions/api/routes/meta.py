"""Service metadata, the current user, tokens and users."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

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


@router.post("/api/token", status_code=201)
def create_token(user: User = Depends(current_user)):
    return {"token": identity.create_personal_access_token(user)}


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
