"""Who is calling: API tokens (`Token <key>`), personal access tokens and JWT access tokens (`Bearer`).

Label Studio has two kinds of credential and `label-studio-sdk` speaks both:
- a legacy key, sent as `Authorization: Token <key>`;
- a personal access token: a JWT *refresh* token with an `exp`, which the SDK trades at
  `POST /api/token/refresh/` for a short-lived JWT *access* token sent as `Authorization: Bearer <jwt>`.
Secrets are stored only as SHA-256 hashes. Access tokens are checked by signature alone (no database
call); refresh tokens are also looked up, so deleting one revokes it.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from functools import lru_cache

import jwt

from functions.domain.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from functions.domain.records import ROLES, User, utcnow
from functions.settings import get_settings
from functions.store import secrets as secrets_store
from functions.store import users as user_store

_ALGORITHM = "HS256"


@lru_cache(maxsize=1)
def _signing_key() -> str:
    settings = get_settings()
    if settings.jwt_secret:
        return settings.jwt_secret
    if settings.jwt_secret_arn:
        return secrets_store.get_secret(settings.jwt_secret_arn, max_age=300)
    raise RuntimeError("Set LABELSTACK_JWT_SECRET or LABELSTACK_JWT_SECRET_ARN to sign access tokens.")


def authenticate(authorization: str | None) -> User:
    if not authorization:
        raise NotAuthenticated("Authentication credentials were not provided.")
    scheme, _, credential = authorization.strip().partition(" ")
    credential = credential.strip()
    scheme = scheme.lower()
    if scheme == "token" and credential:
        user_id = user_store.lookup_token(credential, "legacy")
    elif scheme == "bearer" and credential:
        user_id = _access_token_user(credential)
    else:
        raise NotAuthenticated("Invalid token header.")
    if user_id is None:
        raise NotAuthenticated("Invalid token.")
    try:
        return user_store.get(user_id)
    except NotFound:
        raise NotAuthenticated("Invalid token.") from None


def _decode(token: str, token_type: str) -> dict:
    try:
        claims = jwt.decode(token, _signing_key(), algorithms=[_ALGORITHM], options={"require": ["exp"]})
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("Token is expired.") from None
    except jwt.InvalidTokenError:
        raise NotAuthenticated("Invalid token.") from None
    if claims.get("token_type") != token_type:
        raise NotAuthenticated("Invalid token.")
    return claims


def _access_token_user(token: str) -> int | None:
    claims = _decode(token, "access")
    return int(claims["user_id"])


def _mint(user_id: int, token_type: str, lifetime: timedelta) -> str:
    now = utcnow()
    claims = {
        "token_type": token_type,
        "user_id": user_id,
        "jti": uuid.uuid4().hex,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(claims, _signing_key(), algorithm=_ALGORITHM)


def create_personal_access_token(user: User) -> str:
    """A refresh JWT (what Label Studio calls a personal access token)."""
    lifetime = timedelta(days=get_settings().refresh_token_days)
    token = _mint(user.id, "refresh", lifetime)
    user_store.save_token(token, user.id, "refresh", utcnow(), utcnow() + lifetime)
    return token


def refresh_access_token(refresh: str | None) -> str:
    if not refresh:
        raise ValidationFailed.field("refresh", "This field is required.")
    claims = _decode(refresh, "refresh")
    if user_store.lookup_token(refresh, "refresh") is None:
        raise NotAuthenticated("Token is invalid or revoked.")
    return _mint(int(claims["user_id"]), "access", timedelta(seconds=get_settings().access_token_seconds))


def revoke_personal_access_token(user: User, refresh: str) -> None:
    if user_store.lookup_token(refresh, "refresh") != user.id:
        raise NotFound("No token matches the given query.")
    user_store.delete_token(refresh)


def reset_legacy_token(user: User, secret: str | None = None) -> str:
    secret = secret or secrets.token_hex(20)
    user_store.set_legacy_token(user.id, secret, utcnow())
    return secret


def create_user(
    caller: User, email: str, role: str, first_name: str = "", last_name: str = "", username: str = ""
) -> User:
    if not caller.is_admin:
        raise PermissionDenied("Only an admin can create users.")
    return register_user(email, role, first_name, last_name, username)


def register_user(
    email: str, role: str, first_name: str = "", last_name: str = "", username: str = ""
) -> User:
    if role not in ROLES:
        raise ValidationFailed.field("role", f"Must be one of: {', '.join(ROLES)}.")
    if "@" not in email or len(email) > 254:
        raise ValidationFailed.field("email", "Enter a valid email address.")
    return user_store.create(email, role, first_name, last_name, username)


def ensure_admin(email: str, token: str | None = None) -> tuple[User, str]:
    """The first admin of an installation (used by `labelstack dev` and the deploy runbook).

    Idempotent: an existing user with this email keeps its account and gets the given (or a new) token.
    """
    user = user_store.find_by_email(email) or register_user(email, "admin")
    return user, reset_legacy_token(user, token)


def list_users(caller: User) -> list[User]:
    if not caller.can_manage_projects:
        raise PermissionDenied("Only admins and managers can list users.")
    return user_store.list_all()
