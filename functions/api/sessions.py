"""Browser sessions for the web UI: an HttpOnly cookie, with a CSRF token for unsafe methods.

Sign-in trades the user's email and password (functions/services/passwords.py), or their API token, for a
session once; the page never keeps either. Signing up through an invitation opens one too.

The cookie's value is `<expiry as unix seconds>.<random secret>`, stored only as the SHA-256 of
the whole value in the tokens table (kind "session", with the DynamoDB TTL on it), so a leaked table leaks
no session, and the expiry in the value cannot be pushed back: a changed value hashes to nothing stored.

CSRF: a cookie rides along on any request the browser makes, so a cookie-authenticated POST/PATCH/DELETE
must also carry `X-CSRF-Token`, a value derived from the session secret (OWASP's HMAC-based token
pattern). A page on another site can neither read the HttpOnly cookie nor our responses, so it cannot
produce the header. We chose this over Origin checking because behind CloudFront the API sees API
Gateway's host name, not the one the browser used, so the Origin has nothing local to compare with
without extra configuration. SameSite=Lax on the cookie is a second line. `Authorization` headers are
not sent by browsers on their own, so scripts using them need no CSRF proof.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import error_responses
from functions.api.schemas.users import BrowserSession, NoSession, SessionRequest
from functions.domain.errors import NotAuthenticated, PermissionDenied, ValidationFailed
from functions.domain.ls_json import user_json
from functions.domain.records import User, utcnow
from functions.services import identity
from functions.services import passwords as password_service
from functions.settings import get_settings
from functions.store import users as user_store

COOKIE = "labelstack_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_KIND = "session"
# Plain HTTP is only acceptable to a browser on the machine itself (`labelstack dev`).
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

router = APIRouter(route_class=LabelStudioRoute, tags=["Sessions"])


@dataclass(frozen=True)
class Session:
    value: str
    user: User
    expires_at: datetime

    @property
    def csrf_token(self) -> str:
        return csrf_token_for(self.value)


def csrf_token_for(session_value: str) -> str:
    return hmac.new(session_value.encode(), b"labelstack-csrf", hashlib.sha256).hexdigest()


def start(user: User) -> Session:
    expires_at = (utcnow() + timedelta(hours=get_settings().session_hours)).replace(microsecond=0)
    value = f"{int(expires_at.timestamp())}.{secrets.token_urlsafe(32)}"
    user_store.save_token(value, user.id, _KIND, utcnow(), expires_at, generation=user.credential_generation)
    return Session(value, user, expires_at)


def resolve(value: str | None) -> Session:
    """The live session a cookie value names, or NotAuthenticated."""
    value = value or ""
    expiry, _, secret = value.partition(".")
    if not expiry.isdigit() or not secret:
        raise NotAuthenticated("Authentication credentials were not provided.")
    expires_at = datetime.fromtimestamp(int(expiry), UTC)
    # DynamoDB's TTL deletes late (up to days), so the expiry is checked here, not left to it.
    if expires_at <= utcnow():
        raise NotAuthenticated("Session expired; sign in again.")
    stored = user_store.lookup_token(value, _KIND)
    if stored is None:
        raise NotAuthenticated("Session is invalid or signed out.")
    # A session minted before the user's last revocation (or of a deactivated user) is dead.
    user = identity.live_user(stored.user_id, stored.generation, "Session is invalid or signed out.")
    return Session(value, user, expires_at)


def user_from_cookie(request: Request) -> User:
    """The cookie's user; unsafe methods must also prove they come from our page (see module docstring)."""
    session = resolve(request.cookies.get(COOKIE))
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER) or ""
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise PermissionDenied(
                f"CSRF token missing or incorrect: send the {CSRF_HEADER} header "
                "from GET /api/session, or use an Authorization header."
            )
    return session.user


def _answer(session: Session) -> dict:
    return {
        "user": user_json(session.user),
        "csrf_token": session.csrf_token,
        "expires_at": session.expires_at.isoformat(),
    }


def _secure(request: Request) -> bool:
    return (request.url.hostname or "") not in _LOOPBACK_HOSTS


def _json_only(request: Request) -> None:
    # A cross-site form cannot send JSON, so no other site can sign a browser into an account of its own.
    # A dependency, so it is checked before the body is read.
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise ValidationFailed.field(
            "token", 'Send JSON: {"email": "...", "password": "..."} or {"token": "<API token>"}.'
        )


JsonOnly = Depends(_json_only)


def open_session(request: Request, response: Response, user: User) -> dict:
    """Start a session for `user`, set its cookie on `response`; the answer to send."""
    session = start(user)
    response.set_cookie(
        COOKIE,
        session.value,
        max_age=get_settings().session_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return _answer(session)


def _credentials_user(body: SessionRequest) -> User:
    if body.email is not None or body.password is not None:
        return password_service.sign_in(body.email or "", body.password or "")
    token = (body.token or "").strip()
    if not token:
        raise ValidationFailed.field("token", "This field is required (or email and password).")
    return identity.authenticate(f"Token {token}")


@router.post(
    "/api/session",
    status_code=201,
    response_model=BrowserSession,
    dependencies=[JsonOnly],
    responses=error_responses(400, 401, 413, 429),
)
async def sign_in(body: SessionRequest, request: Request, response: Response):
    """Sign the browser in with `email` and `password`, or with an API `token`: an HttpOnly session
    cookie. The answer has the CSRF token to send as X-CSRF-Token with every unsafe request of the
    session. Failed password attempts slow the account down (429 with Retry-After)."""
    user = await run_in_threadpool(_credentials_user, body)
    return await run_in_threadpool(open_session, request, response, user)


SessionCookie = Annotated[str | None, Cookie(alias=COOKIE, description="The session, from sign-in.")]


@router.get("/api/session", response_model=BrowserSession | NoSession)
def current_session(request: Request, response: Response, cookie: SessionCookie = None):
    """The browser's session, or `{"user": null}` without one: the page asks this before it knows whether
    it is signed in, and "no" is an answer, not an error. A dead cookie is cleared, with why in `detail`
    (every other route still answers 401 for it)."""
    if cookie is None:
        return {"user": None}
    try:
        return _answer(resolve(cookie))
    except NotAuthenticated as exc:
        forget_cookie(request, response)
        return {"user": None, "detail": exc.detail}


@router.delete("/api/session", status_code=204, responses=error_responses(401, 403))
def sign_out(request: Request, cookie: SessionCookie = None):
    """Sign the browser out: the session ends and its cookie is cleared. Needs the CSRF token."""
    user_from_cookie(request)  # signing out is an unsafe method too: it needs the CSRF token
    user_store.delete_token(cookie or "")
    response = Response(status_code=204)
    forget_cookie(request, response)
    return response


def forget_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))
