"""Who is calling: API tokens (`Token <key>`), personal access tokens and JWT access tokens (`Bearer`).

Label Studio has two kinds of credential and `label-studio-sdk` speaks both:
- a legacy key, sent as `Authorization: Token <key>`;
- a personal access token: a JWT *refresh* token with an `exp`, which the SDK trades at
  `POST /api/token/refresh/` for a short-lived JWT *access* token sent as `Authorization: Bearer <jwt>`.
Secrets are stored only as SHA-256 hashes; refresh tokens are looked up on use, so deleting one revokes it.
Every credential carries the user's credential generation from when it was minted (a `gen` claim, or a
field of its stored row); the user item, read on every request anyway, holds the current one, and a
credential of another generation, or of a deactivated user, is refused. Bumping the generation is how
every credential of a user is revoked at once, access tokens included.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import jwt

from functions.domain import passwords
from functions.domain.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from functions.domain.ls_json import iso
from functions.domain.records import ROLES, User, utcnow
from functions.services import passwords as password_service
from functions.settings import get_settings
from functions.store import secrets as secrets_store
from functions.store import users as user_store

_ALGORITHM = "HS256"
_NAME_MAX = 150


def _signing_key() -> str:
    # Not cached here: the settings are, and the secret is cached by the store for max_age seconds, so a
    # rotated key is picked up and a changed configuration is never answered with the old key.
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
        stored = user_store.lookup_token(credential, "legacy")
        if stored is None:
            raise NotAuthenticated("Invalid token.")
        user_id, generation = stored.user_id, stored.generation
    elif scheme == "bearer" and credential:
        claims = _decode(credential, "access")
        user_id, generation = int(claims["user_id"]), int(claims.get("gen", 0))
    else:
        raise NotAuthenticated("Invalid token header.")
    # Reading the user is needed anyway; comparing its generation here is what makes a revocation reach
    # access tokens too, which are otherwise checked by signature alone.
    return live_user(user_id, generation, "Invalid token.")


def live_user(user_id: int, generation: int, revoked_message: str) -> User:
    """The user a credential of `generation` belongs to, if it still works: 401 for a deactivated user
    or a credential minted before the user's last revocation."""
    try:
        user = user_store.get(user_id)
    except NotFound:
        raise NotAuthenticated(revoked_message) from None
    if not user.is_active:
        raise NotAuthenticated("User inactive or deleted.")
    if generation != user.credential_generation:
        raise NotAuthenticated(revoked_message)
    return user


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


def _mint(user_id: int, generation: int, token_type: str, lifetime: timedelta) -> tuple[str, dict]:
    now = utcnow()
    claims = {
        "token_type": token_type,
        "user_id": user_id,
        "gen": generation,
        "jti": uuid.uuid4().hex,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(claims, _signing_key(), algorithm=_ALGORITHM), claims


def create_personal_access_token(user: User) -> dict:
    """A refresh JWT (what Label Studio calls a personal access token), with its dates: `{token,
    created_at, expires_at}`. The token is shown this once; only its hash is stored."""
    lifetime = timedelta(days=get_settings().refresh_token_days)
    token, claims = _mint(user.id, user.credential_generation, "refresh", lifetime)
    created = datetime.fromtimestamp(claims["iat"], UTC)
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    user_store.save_token(
        token, user.id, "refresh", created, expires, generation=user.credential_generation, jti=claims["jti"]
    )
    return {"token": token, "created_at": iso(created), "expires_at": iso(expires)}


def refresh_access_token(refresh: str | None) -> str:
    if not isinstance(refresh, str) or not refresh:
        raise ValidationFailed.field("refresh", "This field is required.")
    _decode(refresh, "refresh")
    stored = user_store.lookup_token(refresh, "refresh")
    if stored is None:
        raise NotAuthenticated("Token is invalid or revoked.")
    user = live_user(stored.user_id, stored.generation, "Token is invalid or revoked.")
    lifetime = timedelta(seconds=get_settings().access_token_seconds)
    return _mint(user.id, user.credential_generation, "access", lifetime)[0]


def personal_access_tokens(user: User) -> list[dict]:
    """The caller's live personal access tokens, oldest first: their ids and dates, never the tokens."""
    return [
        {"id": t.jti, "jti": t.jti, "created_at": iso(t.created_at), "expires_at": iso(t.expires_at)}
        for t in _live_tokens(user)
    ]


def _live_tokens(user: User) -> list[user_store.StoredToken]:
    now = utcnow()
    tokens = [
        t
        for t in user_store.tokens_of(user.id, "refresh")
        if t.generation == user.credential_generation and (t.expires_at is None or t.expires_at > now)
    ]
    return sorted(tokens, key=lambda t: t.created_at)


def revoke_personal_access_token(user: User, refresh) -> None:
    """Label Studio's blacklist: the token itself names what to revoke. Revoking deletes its stored
    hash; refresh only accepts stored tokens, so nothing else needs remembering."""
    if not isinstance(refresh, str) or not refresh:
        raise ValidationFailed.field("refresh", "This field is required.")
    stored = user_store.lookup_token(refresh, "refresh")
    if stored is None or stored.user_id != user.id:
        raise NotFound("No token matches the given query.")
    user_store.delete_token_by_hash(stored.token_hash)


def revoke_personal_access_token_by_id(user: User, jti: str) -> None:
    match = next((t for t in user_store.tokens_of(user.id, "refresh") if t.jti == jti), None)
    if match is None:
        raise NotFound("No token matches the given query.")
    user_store.delete_token_by_hash(match.token_hash)


def reset_legacy_token(user: User, secret: str | None = None) -> str:
    """A new `Token <key>` for the user, and the end of every credential minted before it: the old key,
    web sessions, personal access tokens and the access tokens they gave. Both reset-token and
    sign-out-everywhere do this: a leaked key could otherwise mint credentials that outlive it.

    Without a given `secret` the key is derived from a random seed and the installation's signing key
    (see `legacy_token`), so it can be shown again; a given one (the installer's) cannot."""
    seed = None
    if secret is None:
        seed = secrets.token_hex(16)
        secret = _derived_key(seed)
    generation = user_store.bump_generation(user.id)
    user_store.set_legacy_token(user.id, secret, utcnow(), generation, seed)
    return secret


def _derived_key(seed: str) -> str:
    # 40 hex digits, the length of Label Studio's (Django REST framework's) keys.
    return hmac.new(
        _signing_key().encode(), f"labelstack-api-key:{seed}".encode(), hashlib.sha256
    ).hexdigest()[:40]


def legacy_token(user: User) -> str:
    """The caller's current API key, as Label Studio's GET /api/current-user/token shows it.

    Only the key's hash is stored, as for every credential; what makes it showable is that it was derived
    (HMAC-SHA256) from a random seed stored on the user and the installation's signing key. A copy of the
    tables alone therefore reveals no key; whoever also has the signing key could mint access tokens for
    anyone anyway. A key given from outside (the installer's), or derived before the signing key was
    rotated, cannot be derived again: NotFound, and resetting the key gives one that can."""
    seed, stored_hash = user_store.legacy_token_seed(user.id)
    if seed and stored_hash:
        key = _derived_key(seed)
        if hmac.compare_digest(user_store.token_hash(key), stored_hash):
            return key
    raise NotFound(
        "This API key cannot be shown again (it was given when the installation was set up, or the "
        "signing key has changed since): reset it to get one that can."
    )


def get_user(caller: User, user_id: int) -> User:
    if not caller.can_manage_projects:
        raise PermissionDenied("Only admins and managers can see users.")
    return user_store.get(user_id)


def update_user(caller: User, user_id: int, fields: dict) -> tuple[User, str | None]:
    """An admin edits a user: names; `role`; `password` (write-only: sets it, and ends the user's browser
    sessions); `is_active: false` deactivates (every credential of the user dies) and `true` reactivates
    with a new API token, returned once (old credentials stay dead). Admins change neither their own role
    (the last admin could lock everyone out) nor their own password here (that asks for the current one:
    POST /api/current-user/password)."""
    if not caller.is_admin:
        raise PermissionDenied("Only an admin can change users.")
    user = user_store.get(user_id)
    profile = {}
    for name in ("first_name", "last_name", "username"):
        if name in fields:
            value = fields[name]
            if not isinstance(value, str) or len(value) > _NAME_MAX:
                raise ValidationFailed.field(name, f"Must be a string of at most {_NAME_MAX} characters.")
            profile[name] = value
    active = fields.get("is_active", user.is_active)
    if not isinstance(active, bool):
        raise ValidationFailed.field("is_active", "Must be a boolean.")
    if not active and user.id == caller.id:
        raise ValidationFailed.field("is_active", "You cannot deactivate yourself.")
    role = fields.get("role", user.role)
    if role not in ROLES:
        raise ValidationFailed.field("role", f"Must be one of: {', '.join(ROLES)}.")
    if role != user.role and user.id == caller.id:
        raise ValidationFailed.field("role", "You cannot change your own role.")
    if "password" in fields:
        if user.id == caller.id:
            raise ValidationFailed.field(
                "password", "Change your own password with POST /api/current-user/password."
            )
        password_service.set_password(user.id, fields["password"])
        password_service.end_sessions(user.id)
    if profile:
        user = user_store.update(user.id, **profile)
    if role != user.role:
        user = user_store.set_role(user.id, role)
    token = None
    if active != user.is_active:
        user = user_store.set_active(user.id, active)
        if active:
            token = reset_legacy_token(user)
            user = user_store.get(user.id)
    return user, token


def create_user(
    caller: User,
    email: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    username: str = "",
    password: str | None = None,
) -> User:
    """An admin creates a user, optionally with a password (write-only) to sign in to the web UI with."""
    if not caller.is_admin:
        raise PermissionDenied("Only an admin can create users.")
    if password is not None:
        passwords.check_rules(password)
    user = register_user(email, role, first_name, last_name, username)
    if password is not None:
        password_service.set_password(user.id, password)
    return user


def register_user(
    email: str, role: str, first_name: str = "", last_name: str = "", username: str = ""
) -> User:
    check_new_user(email, role, first_name, last_name, username)
    return user_store.create(email, role, first_name, last_name, username)


def check_new_user(
    email: str, role: str, first_name: str = "", last_name: str = "", username: str = ""
) -> None:
    """What register_user refuses, checked without writing (sign-up checks everything before it uses up
    its invitation)."""
    if role not in ROLES:
        raise ValidationFailed.field("role", f"Must be one of: {', '.join(ROLES)}.")
    if "@" not in email or len(email) > 254:
        raise ValidationFailed.field("email", "Enter a valid email address.")
    for name, value in (("first_name", first_name), ("last_name", last_name), ("username", username)):
        if len(value) > _NAME_MAX:
            raise ValidationFailed.field(name, f"Must be a string of at most {_NAME_MAX} characters.")


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
