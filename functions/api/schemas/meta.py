"""Service metadata: the health check and the version Label Studio clients read."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from functions.api.schemas.common import ResponseBody


class Health(ResponseBody):
    status: str = Field(description='"UP" while the service answers.')


class Version(ResponseBody):
    """Label Studio's `/api/version`; `label-studio-sdk` reads `edition` ("Community": exports are one
    request)."""

    release: str
    os_package: dict[str, Any] = Field(alias="label-studio-os-package")
    os_backend: dict[str, Any] = Field(alias="label-studio-os-backend")
    edition: str
    labelstack: dict[str, Any]
