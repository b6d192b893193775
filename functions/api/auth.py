"""The `current_user` dependency: every route except /health, /api/version and token refresh needs it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, APIKeyHeader

from functions.api import sessions
from functions.domain.records import User
from functions.services import identity

# Declared for the OpenAPI document (so /api/docs can send credentials); `current_user` reads them.
_authorization = APIKeyHeader(
    name="Authorization",
    scheme_name="Token",
    description="`Token <API key>`, or `Bearer <access token>` (from a personal access token).",
    auto_error=False,
)
_session = APIKeyCookie(
    name=sessions.COOKIE,
    scheme_name="Session",
    description="The web UI's session (POST /api/session); unsafe methods also need X-CSRF-Token.",
    auto_error=False,
)


def current_user(
    request: Request,
    authorization: Annotated[str | None, Security(_authorization)] = None,
    session: Annotated[str | None, Security(_session)] = None,
) -> User:
    # A sync dependency: FastAPI runs it in its thread pool, like the sync routes that use it.
    # Scripts send an Authorization header; the web UI's browser sends its session cookie (CSRF-checked).
    if not authorization and session is not None:
        return sessions.user_from_cookie(request)
    return identity.authenticate(authorization)


CurrentUser = Annotated[User, Depends(current_user)]
