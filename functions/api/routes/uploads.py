"""Files uploaded into projects: Label Studio's file-upload list, and `/data/upload/...`, where a task's
media is served to the members of its project (the import that uploads it is in data_io.py)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, RedirectResponse, Response

from functions.api.auth import CurrentUser
from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import COMMON_ERRORS, INT64_MAX, INT64_MIN, ObjectId, QueryFlag
from functions.api.schemas.data_io import FileUpload
from functions.domain.errors import ValidationFailed
from functions.services import file_uploads

router = APIRouter(route_class=LabelStudioRoute, responses=COMMON_ERRORS)

_IDS = "Uploads to list: `ids=[1,2,3]` (Label Studio's form) or `ids=1&ids=2`."


def _ids(values: list[str]) -> list[int]:
    found: list[int] = []
    for value in values:
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        for item in parsed if isinstance(parsed, list) else [parsed]:
            if isinstance(item, bool) or not isinstance(item, int) or not INT64_MIN <= item <= INT64_MAX:
                raise ValidationFailed.field("ids", "Expected a list of file upload ids, e.g. [1,2,3].")
            found.append(item)
    return found


@router.get("/api/projects/{project_id}/file-uploads", response_model=list[FileUpload], tags=["Import"])
def list_file_uploads(
    project_id: ObjectId,
    user: CurrentUser,
    ids: Annotated[list[str], Query(description=_IDS)] = [],  # noqa: B006
    all_: Annotated[QueryFlag, Query(alias="all", description="All of the caller's uploads.")] = False,
):
    """The caller's files uploaded into the project: those `ids` names, or all of them with `all=true`."""
    uploads = file_uploads.list_uploads(user, project_id, _ids(ids), all_)
    return [file_uploads.upload_json(u) for u in uploads]


@router.get("/api/import/file-upload/{upload_id}", response_model=FileUpload, tags=["Import"])
def get_file_upload(upload_id: ObjectId, user: CurrentUser):
    """One uploaded file, for anyone who may see its project."""
    return file_uploads.upload_json(file_uploads.get_upload(user, upload_id))


_MEDIA: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, with the type its extension names (a type that could run scripts "
        "as an attachment under a sandbox policy).",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    303: {"description": "Location: a short-lived presigned URL of the file (files kept in S3)."},
}


@router.get("/data/upload/{filename:path}", tags=["Import"], response_class=Response, responses=_MEDIA)
def download_upload(filename: str, user: CurrentUser):
    """A file uploaded into a project (`/data/upload/<project>/<name>`, as a task's data names it), for
    the project's members and admins; 404 for anyone else."""
    found = file_uploads.open_media(user, filename)
    serving = found.serving
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300"}
    if serving.disposition:
        headers["Content-Disposition"] = serving.disposition
    if serving.policy:
        headers["Content-Security-Policy"] = serving.policy
    if found.path is None:
        return RedirectResponse(found.url or "", status_code=303, headers={"Cache-Control": "no-store"})
    return FileResponse(found.path, media_type=serving.content_type, headers=headers)
