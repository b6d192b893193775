"""Passwords: signing in with one, changing it, and slowing down whoever guesses.

A password only ever opens a browser session (functions/api/sessions.py); scripts keep their API keys and
personal access tokens. The hash never leaves the store but to be checked here, and no answer carries it.

Guessing is slowed per account: the first few failures cost nothing, then each one doubles the wait
before the account takes another attempt, up to a quarter of an hour. A success, or a new password,
starts the count again. A wait is answered 429 with Retry-After without checking the password, so a wait
also means no guess. Someone who knows an email can make its owner wait this long to sign in with a
password; API keys and sessions that are open keep working, which bounds what that costs.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from functions.domain import passwords
from functions.domain.errors import NotAuthenticated, TooManyRequests, ValidationFailed
from functions.domain.records import User, utcnow
from functions.store import users as user_store

# Label Studio's message (users/forms.py INVALID_USER_ERROR), for an unknown email, a wrong password, a
# user without one and a deactivated user alike: the answer does not tell which.
INVALID = "The email and password you entered don't match."
FREE_FAILURES = 5
MAX_WAIT = timedelta(minutes=15)


def wait_after(failures: int, last_failure: datetime | None, now: datetime) -> timedelta:
    """How long the account must wait before its next attempt, given its consecutive failures."""
    if failures < FREE_FAILURES or last_failure is None:
        return timedelta(0)
    delay = min(timedelta(seconds=2 ** min(failures - FREE_FAILURES, 20)), MAX_WAIT)
    return max(timedelta(0), last_failure + delay - now)


def _throttle(failures: int, last_failure: datetime | None) -> None:
    wait = wait_after(failures, last_failure, utcnow())
    if wait > timedelta(0):
        raise TooManyRequests(max(1, math.ceil(wait.total_seconds())))


def sign_in(email: str, password: str) -> User:
    """The user whose email and password these are, or NotAuthenticated (TooManyRequests while the
    account waits after failures)."""
    if not email.strip():
        raise ValidationFailed.field("email", "This field is required.")
    if not password:
        raise ValidationFailed.field("password", "This field is required.")
    record = user_store.sign_in_record(email.strip())
    if record is None:
        passwords.verify(password, None)  # the same time as a real check: no telling which emails exist
        raise NotAuthenticated(INVALID)
    _throttle(record.failed_sign_ins, record.last_failed_sign_in)
    if not passwords.verify(password, record.password_hash):
        user_store.record_sign_in_failure(record.user.id, utcnow())
        raise NotAuthenticated(INVALID)
    if not record.user.is_active:
        raise NotAuthenticated(INVALID)
    if record.password_hash and passwords.needs_rehash(record.password_hash):
        user_store.set_password_hash(record.user.id, passwords.hash_password(password))
    elif record.failed_sign_ins:
        user_store.clear_sign_in_failures(record.user.id)
    return record.user


def has_password(user: User) -> bool:
    return user_store.password_hash(user.id) is not None


def set_password(user_id: int, password: object, field: str = "password") -> None:
    """Hash and store a password that follows the rules (a 400 naming `field` if it does not)."""
    user_store.set_password_hash(user_id, passwords.hash_password(passwords.check_rules(password, field)))


def change_password(user: User, old_password: object, new_password: object, keep_session: str | None) -> None:
    """The user changes their own password. One they have must be given first (`old_password`; a wrong
    one is a 400 on that field, counted and slowed like a failed sign-in), so a browser left signed in
    is not enough to take the account over. A user who never had one (made with an API key only) sets
    it with the session or key they hold. Every other browser session of the user ends; API keys and
    personal access tokens stay (reset the key to end those)."""
    record = user_store.sign_in_record_of(user.id)
    if record.password_hash is not None:
        _throttle(record.failed_sign_ins, record.last_failed_sign_in)
        if not isinstance(old_password, str) or not old_password:
            raise ValidationFailed.field("old_password", "Enter your current password.")
        if not passwords.verify(old_password, record.password_hash):
            user_store.record_sign_in_failure(user.id, utcnow())
            raise ValidationFailed.field("old_password", "Your current password is not correct.")
    set_password(user.id, new_password)
    end_sessions(user.id, keep=keep_session)


def end_sessions(user_id: int, keep: str | None = None) -> None:
    """End the user's browser sessions but the one whose cookie value is `keep`."""
    kept = user_store.token_hash(keep) if keep else None
    for session in user_store.tokens_of(user_id, "session"):
        if session.token_hash != kept:
            user_store.delete_token_by_hash(session.token_hash)
