"""The `current_user` dependency: every route except /health, /api/version and token refresh needs it."""

from __future__ import annotations

from fastapi import Request

from functions.domain.records import User
from functions.services import identity


def current_user(request: Request) -> User:
    # A sync dependency: FastAPI runs it in its thread pool, like the sync routes that use it.
    return identity.authenticate(request.headers.get("authorization"))
