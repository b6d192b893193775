"""Users, API tokens, personal access tokens and browser sessions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field
from pydantic.json_schema import JsonDict

from functions.api.schemas.common import BodyBool, RequestBody, ResponseBody, Timestamp, optional

Role = Literal["admin", "manager", "reviewer", "annotator"]


class UserSimple(ResponseBody):
    """A user named inside another object (a project's or an export's `created_by`)."""

    id: int
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    avatar: str | None = None


class User(ResponseBody):
    id: int
    first_name: str
    last_name: str
    username: str
    email: str
    last_activity: Timestamp | None
    avatar: str | None
    initials: str
    phone: str
    active_organization: int | None
    allow_newsletters: bool | None
    date_joined: Timestamp | None
    role: str = Field(description="admin, manager, reviewer or annotator.")
    is_active: bool


class CreatedUser(User):
    token: str = Field(description="The new user's API token, shown this once (only its hash is kept).")


class UpdatedUser(User):
    token: str | None = Field(
        None, description="Present when the user was reactivated: a new API token, shown this once."
    )


# A secret a request sends and no answer carries (OpenAPI's writeOnly).
WRITE_ONLY: JsonDict = {"writeOnly": True}


def _optional_write_only(schema: dict) -> None:
    schema.pop("default", None)
    schema["writeOnly"] = True


def optional_secret(description: str) -> Any:
    """As `optional()` (may be left out, never null), for a secret: writeOnly."""
    return Field(None, description=description, json_schema_extra=_optional_write_only)


class UserRequest(RequestBody):
    model_config = ConfigDict(extra="ignore")

    email: str = Field(json_schema_extra={"format": "email"})
    role: Role | None = Field(None, description="annotator when left out.")
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    password: str | None = Field(
        None,
        description="A password to sign in to the web UI with (8 to 128 characters); never answered.",
        json_schema_extra=WRITE_ONLY,
    )


class PatchedUserRequest(RequestBody):
    first_name: str = optional("At most 150 characters, as last_name and username.")
    last_name: str = optional()
    username: str = optional()
    is_active: BodyBool = optional(
        "false deactivates (every credential of the user stops working); true reactivates with a new API "
        "token, returned once."
    )
    role: Role = optional("The user's role (not your own).")
    password: str = optional_secret(
        "Sets the user's password (not your own) and ends their browser sessions; never answered."
    )


class ApiKey(ResponseBody):
    token: str = Field(description="The API key, sent as `Authorization: Token <key>`; shown this once.")


class PersonalAccessToken(ResponseBody):
    id: str
    jti: str
    created_at: Timestamp
    expires_at: Timestamp | None


class CreatedPersonalAccessToken(ResponseBody):
    token: str = Field(description="A refresh JWT; trade it at /api/token/refresh. Shown this once.")
    created_at: Timestamp
    expires_at: Timestamp


class RefreshRequest(RequestBody):
    model_config = ConfigDict(extra="ignore")

    refresh: str = Field(description="A personal access token (refresh JWT).")


class AccessToken(ResponseBody):
    access: str = Field(description="A short-lived JWT, sent as `Authorization: Bearer <access>`.")


class SessionRequest(RequestBody):
    model_config = ConfigDict(extra="ignore")

    email: str | None = Field(None, description="With `password`: sign in as the user with this email.")
    password: str | None = Field(None, description="The user's password.", json_schema_extra=WRITE_ONLY)
    token: str | None = Field(None, description="Instead of email and password: the user's API key.")


class PasswordStatus(ResponseBody):
    has_password: bool = Field(description="Whether the caller has a password to sign in with.")
    min_length: int
    max_length: int


class PasswordChange(RequestBody):
    model_config = ConfigDict(extra="ignore")

    old_password: str | None = Field(
        None,
        description="The current password; needed when the caller has one.",
        json_schema_extra=WRITE_ONLY,
    )
    password: str = Field(description="The new password: 8 to 128 characters.", json_schema_extra=WRITE_ONLY)


class InviteRequest(RequestBody):
    model_config = ConfigDict(extra="ignore")

    role: Role | None = Field(None, description="The new user's role; annotator when left out.")
    project: int | None = Field(
        None, description="A project the new user joins (managers must name one of theirs)."
    )
    email: str | None = Field(None, description="The one email address that may sign up with the link.")


class Invite(ResponseBody):
    """Label Studio's `OrganizationInvite` (`invite_url`, `token`), with what this link carries."""

    invite_url: str = Field(description="The sign-up page with the token, relative to the site.")
    token: str = Field(description="The invitation's token, shown this once; it can be used once.")
    role: str | None = None
    project: int | None = None
    email: str | None = None
    expires_at: Timestamp | None = None


class InviteToken(RequestBody):
    model_config = ConfigDict(extra="ignore")

    token: str = Field(description="The token of an invitation link.")


class InvitedProject(ResponseBody):
    id: int
    title: str


class InviteDetails(ResponseBody):
    role: str
    project: InvitedProject | None
    email: str | None = Field(description="The email the invitation is for, if it names one.")
    expires_at: Timestamp | None


class SignUpRequest(RequestBody):
    model_config = ConfigDict(extra="ignore")

    token: str = Field(description="The invitation's token.")
    email: str | None = Field(None, description="Required unless the invitation names one.")
    password: str = Field(description="8 to 128 characters.", json_schema_extra=WRITE_ONLY)
    first_name: str | None = None
    last_name: str | None = None


class NoSession(ResponseBody):
    user: None = Field(description="No session: the browser is not signed in.")
    detail: str | None = Field(None, description="Why a session cookie that was sent no longer works.")


class BrowserSession(ResponseBody):
    user: User
    csrf_token: str = Field(description="Send as X-CSRF-Token with every unsafe request the session makes.")
    expires_at: Timestamp
