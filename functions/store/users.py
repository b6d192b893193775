"""Users, their API credentials, password hashes and sign-in failures, and invitations (tokens table rows)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from pynamodb.expressions.update import Action

from functions.domain.errors import Conflict, NotFound
from functions.domain.records import User
from functions.store import ids
from functions.store.errors import conflict_on_condition
from functions.store.models import TokenModel, UserModel


def _to_user(item: UserModel | SimpleNamespace) -> User:
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


def _to_token(item: TokenModel | SimpleNamespace) -> StoredToken:
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
        return _to_user(UserModel.get_plain(user_id))
    except UserModel.DoesNotExist:
        raise NotFound("No User matches the given query.") from None


def batch_get(user_ids) -> dict[int, User]:
    wanted = sorted({int(u) for u in user_ids if u is not None})
    return {int(item.id): _to_user(item) for item in UserModel.batch_get_plain(wanted)} if wanted else {}


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
        item = TokenModel.get_plain(token_hash(secret))
    except TokenModel.DoesNotExist:
        return None
    return _to_token(item) if item.kind == kind else None


def tokens_of(user_id: int, kind: str) -> list[StoredToken]:
    return [_to_token(item) for item in TokenModel.user_index.query(user_id, TokenModel.kind == kind)]


def delete_token(secret: str) -> None:
    TokenModel(token_hash(secret)).delete()


def delete_token_by_hash(hashed: str) -> None:
    TokenModel(hashed).delete()


def set_legacy_token(
    user_id: int, secret: str, created_at: datetime, generation: int, seed: str | None = None
) -> None:
    """Give a user a new `Token <key>` credential; the previous one stops working. `seed` is what the key
    was derived from, if it was (None for a key given from outside)."""
    item = UserModel.get(user_id)
    old = item.legacy_token_hash
    save_token(secret, user_id, "legacy", created_at, generation=generation)
    seed_action = UserModel.legacy_token_seed.set(seed) if seed else UserModel.legacy_token_seed.remove()
    item.update(actions=[UserModel.legacy_token_hash.set(token_hash(secret)), seed_action])
    if old and old != token_hash(secret):
        TokenModel(old).delete()


def legacy_token_seed(user_id: int) -> tuple[str | None, str | None]:
    """The seed the user's current key was derived from, and the key's hash (to check a re-derived key)."""
    # "id" too: an item none of whose projected attributes exist reads as no item at all.
    item = UserModel.get(user_id, attributes_to_get=["id", "legacy_token_seed", "legacy_token_hash"])
    return item.legacy_token_seed, item.legacy_token_hash


# --- passwords ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInRecord:
    """What a password sign-in reads: the user, their password hash and their recent failures."""

    user: User
    password_hash: str | None
    failed_sign_ins: int
    last_failed_sign_in: datetime | None


def sign_in_record(email: str) -> SignInRecord | None:
    """The record of the user with this email, if there is one."""
    keys = list(UserModel.email_index.query(email.lower(), limit=1))
    if not keys:
        return None
    try:
        return sign_in_record_of(int(keys[0].id))
    except NotFound:
        return None


def sign_in_record_of(user_id: int) -> SignInRecord:
    try:
        item = UserModel.get(user_id)
    except UserModel.DoesNotExist:
        raise NotFound("No User matches the given query.") from None
    return SignInRecord(
        _to_user(item), item.password_hash, int(item.failed_sign_ins or 0), item.last_failed_sign_in
    )


def password_hash(user_id: int) -> str | None:
    try:
        return UserModel.get(user_id, attributes_to_get=["id", "password_hash"]).password_hash
    except UserModel.DoesNotExist:
        raise NotFound("No User matches the given query.") from None


def set_password_hash(user_id: int, hashed: str) -> None:
    """Store a new password hash; the count of failed sign-ins starts again."""
    with conflict_on_condition("user does not exist"):
        UserModel(user_id).update(
            actions=[
                UserModel.password_hash.set(hashed),
                UserModel.failed_sign_ins.set(0),
                UserModel.last_failed_sign_in.remove(),
            ],
            condition=UserModel.id.exists(),
        )


def record_sign_in_failure(user_id: int, at: datetime) -> int:
    """Count one failed sign-in (an atomic ADD, so parallel guesses are all counted); the new count."""
    item = UserModel(user_id)
    item.update(
        actions=[UserModel.failed_sign_ins.add(1), UserModel.last_failed_sign_in.set(at)],
        condition=UserModel.id.exists(),
    )
    return int(item.failed_sign_ins)


def clear_sign_in_failures(user_id: int) -> None:
    UserModel(user_id).update(
        actions=[UserModel.failed_sign_ins.set(0), UserModel.last_failed_sign_in.remove()],
        condition=UserModel.id.exists(),
    )


def set_role(user_id: int, role: str) -> User:
    with conflict_on_condition("user does not exist"):
        UserModel(user_id).update(actions=[UserModel.role.set(role)], condition=UserModel.id.exists())
    return get(user_id)


# --- invitations -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredInvite:
    """A sign-up link's stored row (its token only as a hash)."""

    token_hash: str
    created_by: int
    role: str
    project_id: int | None
    email: str | None
    created_at: datetime
    expires_at: datetime | None


def save_invite(
    secret: str,
    created_by: int,
    role: str,
    project_id: int | None,
    email: str | None,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    TokenModel(
        token_hash(secret),
        user_id=created_by,
        kind="invite",
        created_at=created_at,
        expires_at=expires_at,
        role=role,
        project_id=project_id,
        email=email,
    ).save()


def lookup_invite(secret: str) -> StoredInvite | None:
    try:
        item = TokenModel.get(token_hash(secret))
    except TokenModel.DoesNotExist:
        return None
    if item.kind != "invite":
        return None
    return StoredInvite(
        token_hash=item.token_hash,
        created_by=int(item.user_id),
        role=item.role or "annotator",
        project_id=int(item.project_id) if item.project_id is not None else None,
        email=item.email,
        created_at=item.created_at,
        expires_at=item.expires_at,
    )


def consume_invite(secret: str) -> bool:
    """Delete the invite if it is still there: True for the one caller that did, so it is used once even
    when two people sign up with it at the same moment."""
    try:
        with conflict_on_condition("invite already used"):
            TokenModel(token_hash(secret)).delete(
                condition=TokenModel.token_hash.exists() & (TokenModel.kind == "invite")
            )
    except Conflict:
        return False
    return True


def delete_invites_of(user_id: int) -> int:
    """Delete every invite `user_id` made; how many there were."""
    hashes = [t.token_hash for t in tokens_of(user_id, "invite")]
    for hashed in hashes:
        TokenModel(hashed).delete()
    return len(hashes)
