"""Users and their API credentials."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from pynamodb.expressions.update import Action

from functions.domain.errors import Conflict, NotFound
from functions.domain.records import User
from functions.store import ids
from functions.store.errors import conflict_on_condition
from functions.store.models import TokenModel, UserModel


def _to_user(item: UserModel) -> User:
    return User(
        id=int(item.id),
        email=item.email,
        role=item.role,
        username=item.username,
        first_name=item.first_name,
        last_name=item.last_name,
        created_at=item.created_at,
        last_activity=item.last_activity,
        is_active=item.is_active,
        credential_generation=int(item.credential_generation or 0),
    )


@dataclass(frozen=True)
class StoredToken:
    """A credential row, without its secret (only the hash is stored)."""

    token_hash: str
    user_id: int
    kind: str
    generation: int
    created_at: datetime
    expires_at: datetime | None
    jti: str | None


def _to_token(item: TokenModel) -> StoredToken:
    return StoredToken(
        token_hash=item.token_hash,
        user_id=int(item.user_id),
        kind=item.kind,
        generation=int(item.generation or 0),
        created_at=item.created_at,
        expires_at=item.expires_at,
        jti=item.jti,
    )


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def get(user_id: int) -> User:
    try:
        return _to_user(UserModel.get(user_id))
    except UserModel.DoesNotExist:
        raise NotFound("No User matches the given query.") from None


def batch_get(user_ids) -> dict[int, User]:
    wanted = sorted({int(u) for u in user_ids if u is not None})
    return {int(item.id): _to_user(item) for item in UserModel.batch_get(wanted)} if wanted else {}


def list_all(organization: int = 1) -> list[User]:
    return [_to_user(item) for item in UserModel.organization_index.query(organization)]


def find_by_email(email: str) -> User | None:
    keys = list(UserModel.email_index.query(email.lower(), limit=1))
    return get(int(keys[0].id)) if keys else None


def create(email: str, role: str, first_name: str = "", last_name: str = "", username: str = "") -> User:
    email = email.lower()
    if find_by_email(email) is not None:
        raise Conflict(f"A user with email {email} already exists.")
    user = User(
        id=ids.reserve("user"),
        email=email,
        role=role,
        first_name=first_name,
        last_name=last_name,
        username=username,
    )
    item = UserModel(
        user.id,
        email=user.email,
        role=user.role,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        created_at=user.created_at,
    )
    with conflict_on_condition("user id already taken"):
        item.save(condition=UserModel.id.does_not_exist())
    return user


def update(user_id: int, **changes) -> User:
    """Set profile fields (`first_name`, `last_name`, `username`) of an existing user."""
    actions = [getattr(UserModel, name).set(value) for name, value in changes.items()]
    if actions:
        with conflict_on_condition("user does not exist"):
            UserModel(user_id).update(actions=actions, condition=UserModel.id.exists())
    return get(user_id)


def bump_generation(user_id: int) -> int:
    """Start a new credential generation: every session and token minted before it stops working."""
    item = UserModel(user_id)
    item.update(actions=[UserModel.credential_generation.add(1)], condition=UserModel.id.exists())
    return int(item.credential_generation)


def set_active(user_id: int, active: bool) -> User:
    """Deactivating also starts a new credential generation, in the same write, so that reactivating
    cannot bring back anything minted before."""
    actions: list[Action] = [UserModel.is_active.set(active)]
    if not active:
        actions.append(UserModel.credential_generation.add(1))
    UserModel(user_id).update(actions=actions, condition=UserModel.id.exists())
    return get(user_id)


def save_token(
    secret: str,
    user_id: int,
    kind: str,
    created_at: datetime,
    expires_at: datetime | None = None,
    *,
    generation: int = 0,
    jti: str | None = None,
) -> None:
    TokenModel(
        token_hash(secret),
        user_id=user_id,
        kind=kind,
        created_at=created_at,
        expires_at=expires_at,
        generation=generation,
        jti=jti,
    ).save()


def lookup_token(secret: str, kind: str) -> StoredToken | None:
    """The stored credential, or None for an unknown or revoked one. Its generation is the caller's to
    compare with the user's."""
    try:
        item = TokenModel.get(token_hash(secret))
    except TokenModel.DoesNotExist:
        return None
    return _to_token(item) if item.kind == kind else None


def tokens_of(user_id: int, kind: str) -> list[StoredToken]:
    return [_to_token(item) for item in TokenModel.user_index.query(user_id, TokenModel.kind == kind)]


def delete_token(secret: str) -> None:
    TokenModel(token_hash(secret)).delete()


def delete_token_by_hash(hashed: str) -> None:
    TokenModel(hashed).delete()


def set_legacy_token(user_id: int, secret: str, created_at: datetime, generation: int) -> None:
    """Give a user a new `Token <key>` credential; the previous one stops working."""
    item = UserModel.get(user_id)
    old = item.legacy_token_hash
    save_token(secret, user_id, "legacy", created_at, generation=generation)
    item.update(actions=[UserModel.legacy_token_hash.set(token_hash(secret))])
    if old and old != token_hash(secret):
        TokenModel(old).delete()
