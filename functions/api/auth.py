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


async def current_user(
    request: Request,
    authorization: Annotated[str | None, Security(_authorization)] = None,
    session: Annotated[str | None, Security(_session)] = None,
) -> User:
    # Run on the event loop, not in FastAPI's thread pool: it is two point reads of the store, and on the
    # embedded engine (SQLite, microseconds a read) a thread hand-off costs more than that. Worse, with
    # many requests at once their threads fight over Python's GIL at every SQLite call (each one lets
    # it go): 50 annotators got ~70 answers/s with the stream's calls in threads and ~165 with them here
    # (bench/annotators.py). Routes that read many items, or wait on the network, stay in threads.
    # Scripts send an Authorization header; the web UI's browser sends its session cookie (CSRF-checked).
    if not authorization and session is not None:
        return sessions.user_from_cookie(request)
    return identity.authenticate(authorization)


CurrentUser = Annotated[User, Depends(current_user)]
