"""Invitations: a sign-up link that makes one new user, with the role (and project) it carries.

Label Studio has one invite token per organization, reused by everyone until an admin resets it. Here each
link is its own token: used once, expiring after `LABELSTACK_INVITE_DAYS`, stored only as a hash (in the
tokens table, kind "invite", with the TTL on its expiry), and shown once, when made. Label Studio's routes
keep their shapes: GET /api/invite answers `{invite_url, token}` (a new annotator link, since a stored hash
cannot be shown again), and POST /api/invite/reset-token revokes every open link.

Who may invite whom follows the roles: an admin invites anyone, into a project or none; a manager invites
annotators and reviewers into a project they manage, and no one above their own role.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import quote

from functions.domain import passwords
from functions.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from functions.domain.ls_json import iso
from functions.domain.records import ROLES, User, utcnow
from functions.services import access, identity
from functions.services import passwords as password_service
from functions.settings import get_settings
from functions.store import projects as project_store
from functions.store import users as user_store

# The web UI's sign-up page. A hash route, so a static host serves it, and the token, after `#`, is never
# sent to a server (no access log, no Referer carries it).
SIGNUP_PATH = "/#/signup"
MANAGER_INVITES = ("annotator", "reviewer")
INVALID = "This invitation link is not valid: it was used already, revoked, or mistyped."
EXPIRED = "This invitation has expired: ask for a new one."


def invitable_roles(user: User) -> tuple[str, ...]:
    if user.is_admin:
        return ROLES
    if user.can_manage_projects:
        return MANAGER_INVITES
    return ()


def invite_url(token: str) -> str:
    return f"{SIGNUP_PATH}?token={quote(token)}"


def create_invite(
    caller: User, role: str = "annotator", project_id: int | None = None, email: str | None = None
) -> dict:
    """A new sign-up link: `{invite_url, token, role, project, email, expires_at}`; the token is shown
    this once."""
    if role not in ROLES:
        raise ValidationFailed.field("role", f"Must be one of: {', '.join(ROLES)}.")
    if not caller.can_manage_projects:
        raise PermissionDenied("Only admins and managers can invite people.")
    if not caller.is_admin:
        if project_id is None:
            raise PermissionDenied("Managers invite people into one of their projects: name its `project`.")
        if role not in MANAGER_INVITES:
            raise PermissionDenied("Managers invite annotators and reviewers.")
    if project_id is not None:
        access.project_for(caller, project_id, manage=True)
    if email is not None:
        email = email.strip().lower()
        identity.check_new_user(email, role)
        if user_store.find_by_email(email) is not None:
            raise ValidationFailed.field("email", "User with email already exists")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    # Whole seconds: the TTL attribute stores no more, and the answer says what is stored.
    expires_at = (now + timedelta(days=get_settings().invite_days)).replace(microsecond=0)
    user_store.save_invite(token, caller.id, role, project_id, email, now, expires_at)
    return {
        "invite_url": invite_url(token),
        "token": token,
        "role": role,
        "project": project_id,
        "email": email,
        "expires_at": iso(expires_at),
    }


def reset_invites(caller: User) -> dict:
    """Label Studio's reset: every open link stops working (whoever made it); the answer is a new one."""
    if not caller.is_admin:
        raise PermissionDenied("Only an admin can revoke every invitation.")
    for user in user_store.list_all():
        if user.can_manage_projects:
            user_store.delete_invites_of(user.id)
    return create_invite(caller)


def _live_invite(token: object) -> tuple[str, user_store.StoredInvite]:
    if not isinstance(token, str) or not token:
        raise ValidationFailed.field("token", "This field is required.")
    invite = user_store.lookup_invite(token)
    if invite is None:
        raise ValidationFailed.field("token", INVALID)
    # DynamoDB's TTL deletes late (up to days), so the expiry is checked here.
    if invite.expires_at is not None and invite.expires_at <= utcnow():
        raise ValidationFailed.field("token", EXPIRED)
    return token, invite


def describe(token: object) -> dict:
    """What the sign-up page shows before anyone signs up: the role, the project, the email it is for."""
    _, invite = _live_invite(token)
    project = None
    if invite.project_id is not None:
        try:
            found = project_store.get(invite.project_id)
            project = {"id": found.id, "title": found.title}
        except NotFound:
            pass
    return {
        "role": invite.role,
        "project": project,
        "email": invite.email,
        "expires_at": iso(invite.expires_at),
    }


def sign_up(
    token: object, email: object, password: object, first_name: str = "", last_name: str = ""
) -> User:
    """Use an invitation: a new user with its role, their password set, a member of its project. Everything
    is checked before the invitation is used up, and only one sign-up can use it (a conditional delete)."""
    token, invite = _live_invite(token)
    if not isinstance(email, str) or not email.strip():
        if invite.email is None:
            raise ValidationFailed.field("email", "This field is required.")
        email = invite.email
    email = email.strip().lower()
    if invite.email is not None and email != invite.email:
        raise ValidationFailed.field("email", "This invitation is for another email address.")
    identity.check_new_user(email, invite.role, first_name, last_name)
    password = passwords.check_rules(password)
    if user_store.find_by_email(email) is not None:
        raise ValidationFailed.field("email", "User with email already exists")
    if not user_store.consume_invite(token):
        raise ValidationFailed.field("token", INVALID)
    try:
        user = user_store.create(email, invite.role, first_name, last_name)
    except Conflict:
        # Someone took the email in the meantime: the invitation was not used, so it works again.
        _restore(token, invite)
        raise ValidationFailed.field("email", "User with email already exists") from None
    password_service.set_password(user.id, password)
    identity.reset_legacy_token(user)
    if invite.project_id is not None:
        try:
            project_store.get(invite.project_id)
            project_store.add_member(invite.project_id, user.id)
        except NotFound:
            pass  # the project was deleted since: the user still exists, in no project
    return user_store.get(user.id)


def _restore(token: str, invite: user_store.StoredInvite) -> None:
    if invite.expires_at is None:
        return
    user_store.save_invite(
        token,
        invite.created_by,
        invite.role,
        invite.project_id,
        invite.email,
        invite.created_at,
        invite.expires_at,
    )
