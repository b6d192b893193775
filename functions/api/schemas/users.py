"""Users, API tokens, personal access tokens and browser sessions."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

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


class UserRequest(RequestBody):
    model_config = ConfigDict(extra="ignore")

    email: str = Field(json_schema_extra={"format": "email"})
    role: Role | None = Field(None, description="annotator when left out.")
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None


class PatchedUserRequest(RequestBody):
    first_name: str = optional("At most 150 characters, as last_name and username.")
    last_name: str = optional()
    username: str = optional()
    is_active: BodyBool = optional(
        "false deactivates (every credential of the user stops working); true reactivates with a new API "
        "token, returned once."
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

    token: str = Field(description="The user's API key.")


class NoSession(ResponseBody):
    user: None = Field(description="No session: the browser is not signed in.")
    detail: str | None = Field(None, description="Why a session cookie that was sent no longer works.")


class BrowserSession(ResponseBody):
    user: User
    csrf_token: str = Field(description="Send as X-CSRF-Token with every unsafe request the session makes.")
    expires_at: Timestamp
