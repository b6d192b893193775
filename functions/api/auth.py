"""The `current_user` dependency: every route except /health, /api/version and token refresh needs it."""

from __future__ import annotations

from fastapi import Request

from functions.api import sessions
from functions.domain.records import User
from functions.services import identity


def current_user(request: Request) -> User:
    # A sync dependency: FastAPI runs it in its thread pool, like the sync routes that use it.
    authorization = request.headers.get("authorization")
    # Scripts send an Authorization header; the web UI's browser sends its session cookie (CSRF-checked).
    if not authorization and sessions.COOKIE in request.cookies:
        return sessions.user_from_cookie(request)
    return identity.authenticate(authorization)
