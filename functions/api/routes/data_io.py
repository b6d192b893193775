"""Import into and export out of a project."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.datastructures import UploadFile

from functions.api.auth import CurrentUser
from functions.api.bodies import json_body
from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import COMMON_ERRORS, ObjectId, QueryFlag, error_responses
from functions.api.schemas.data_io import (
    ConvertedSnapshot,
    ConvertRequest,
    ExportFormat,
    ExportRequest,
    ExportSnapshot,
    ImportResult,
    ImportStatus,
    PredictionsImported,
    import_request_body,
)
from functions.domain.errors import ValidationFailed
from functions.domain.ls_json import iso, user_brief
from functions.services import export_snapshots, exporting, file_uploads, importing
from functions.services import predictions as prediction_service
from functions.store import users as user_store

router = APIRouter(route_class=LabelStudioRoute, responses=COMMON_ERRORS)
_EXPORT_TYPE = "A format name from /export/formats (JSON when left out)."
ExportType = Annotated[str | None, Query(alias="exportType", description=_EXPORT_TYPE)]
# Label Studio's older name for exportType, still sent by some clients.
LegacyExportType = Annotated[str | None, Query(alias="export_type", description="Same as exportType.")]


@router.post(
    "/api/projects/{project_id}/import",
    status_code=201,
    response_model=ImportResult,
    tags=["Import"],
    responses=error_responses(409, 413),
    openapi_extra={"requestBody": import_request_body()},
)
async def import_tasks(
    project_id: ObjectId,
    request: Request,
    user: CurrentUser,
    return_task_ids: Annotated[QueryFlag, Query(description="Answer with the new tasks' ids.")] = False,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="A retry with the same key and body gets the first answer back and imports nothing."
        ),
    ] = None,
):
    """Import tasks, with their annotations and predictions: a JSON list of tasks (or one task), or
    uploaded files. Every task is checked before any is written. A large import runs in the background:
    the answer's `import` is the id to poll."""
    # The body is JSON or a multipart upload, which FastAPI cannot declare as one parameter: it is read
    # here, and `import_request_body` describes it.
    content_type = request.headers.get("content-type", "")
    digest = hashlib.sha256()
    files = None
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        # Starlette keeps each file in a temporary file (on disk past 1 MB): media is streamed to the
        # files bucket from there, never held whole in memory.
        uploads = [
            file_uploads.Upload(value.filename or "upload", value.size or 0, value.file)
            for _, value in form.multi_items()
            if isinstance(value, UploadFile)
        ]
        if not uploads:
            raise ValidationFailed.field("file", "No file in the upload.")
        await run_in_threadpool(_digest_files, digest, uploads)
        files = await run_in_threadpool(file_uploads.read_files, project_id, uploads)
        raw_items = files.items
    else:
        digest.update(await request.body())
        raw_items = importing.read_payload(await json_body(request, expect=(list, dict)))
    return await run_in_threadpool(
        importing.import_tasks_once,
        user,
        project_id,
        raw_items,
        files=files,
        return_task_ids=return_task_ids,
        idempotency_key=idempotency_key,
        body_digest=digest.hexdigest(),
        lambda_context=request.scope.get("aws.context"),
    )


def _digest_files(digest, uploads: list[file_uploads.Upload], chunk: int = 1024 * 1024) -> None:
    """Add each file's name and bytes to the request's digest (what an Idempotency-Key is held to)."""
    for upload in uploads:
        digest.update(upload.filename.encode() + b"\0")
        while block := upload.body.read(chunk):
            digest.update(block)
        digest.update(b"\0")
        upload.body.seek(0)


@router.post(
    "/api/projects/{project_id}/import/predictions",
    status_code=201,
    response_model=PredictionsImported,
    tags=["Import"],
)
async def import_predictions(
    project_id: ObjectId,
    body: Annotated[
        list[dict[str, Any]],
        Body(description="Predictions, each naming its `task` (of this project) with `result` and `score`."),
    ],
    user: CurrentUser,
):
    """Label Studio's predictions import (the legacy SDK's `create_predictions`): all are stored or none."""
    return await run_in_threadpool(prediction_service.import_predictions, user, project_id, body)


@router.get("/api/projects/{project_id}/imports/{import_id}", response_model=ImportStatus, tags=["Import"])
def import_status(project_id: ObjectId, import_id: ObjectId, user: CurrentUser):
    """A background import's progress."""
    job = importing.get_import(user, project_id, import_id)
    return {
        "id": job.id,
        "project": job.project_id,
        "status": job.status,
        "error": job.error,
        "task_count": job.task_count,
        "annotation_count": job.annotation_count,
        "prediction_count": job.prediction_count,
        "duration": job.duration,
        "created_at": iso(job.created_at),
        "finished_at": iso(job.finished_at),
        "task_ids": job.task_ids if job.status == "completed" else [],
    }


@router.get("/api/projects/{project_id}/export/formats", response_model=list[ExportFormat], tags=["Export"])
def export_formats(project_id: ObjectId, user: CurrentUser):
    """The export formats, those the project's label config cannot be written in marked `disabled`."""
    return exporting.export_formats(user, project_id)


@router.get(
    "/api/projects/{project_id}/export",
    tags=["Export"],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The export file, as an attachment: JSON, CSV, TSV, CoNLL, or a zip.",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def export(
    project_id: ObjectId,
    user: CurrentUser,
    export_type: ExportType = None,
    legacy_export_type: LegacyExportType = None,
    download_all_tasks: Annotated[
        QueryFlag, Query(description="Every task; otherwise only tasks with annotations.")
    ] = False,
    ids: Annotated[list[ObjectId], Query(description="Only these tasks.")] = [],  # noqa: B006
    ids_brackets: Annotated[
        list[ObjectId], Query(alias="ids[]", description="Same as ids (the form some clients send).")
    ] = [],  # noqa: B006
    majority_vote: Annotated[
        QueryFlag, Query(description="One annotation per task: the majority's result.")
    ] = False,
):
    """The project's tasks with their annotations in one download (Label Studio's quick export)."""
    written, body = await run_in_threadpool(
        exporting.export,
        user,
        project_id,
        export_type or legacy_export_type or "JSON",
        download_all_tasks=download_all_tasks,
        ids=[*ids, *ids_brackets] or None,
        majority=majority_vote,
    )
    filename = f"project-{project_id}-export.{written.extension}"
    return StreamingResponse(
        iterate_in_threadpool(_chunks(body)),
        media_type=written.content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _chunks(body, size: int = 256 * 1024):
    with body:
        while chunk := body.read(size):
            yield chunk


def _snapshot_json(snapshot, users: dict) -> dict:
    creator = users.get(snapshot.created_by)
    return {
        "title": snapshot.title,
        "id": snapshot.id,
        "created_by": user_brief(creator),
        "created_at": iso(snapshot.created_at),
        "finished_at": iso(snapshot.finished_at),
        "status": snapshot.status,
        "md5": snapshot.md5,
        "counters": {"task_number": snapshot.task_number},
        "converted_formats": [
            {"export_type": name, "status": status} for name, status in sorted(snapshot.converted.items())
        ],
        **snapshot.options,
    }


@router.post(
    "/api/projects/{project_id}/exports",
    status_code=201,
    response_model=ExportSnapshot,
    tags=["Export"],
    responses=error_responses(413),
)
async def create_snapshot(project_id: ObjectId, body: ExportRequest, user: CurrentUser):
    """Start an export snapshot: built in the background; poll it until `completed`, then download it."""
    snapshot = await run_in_threadpool(export_snapshots.create, user, project_id, body.sent())
    return _snapshot_json(snapshot, {user.id: user})


@router.get("/api/projects/{project_id}/exports", response_model=list[ExportSnapshot], tags=["Export"])
def list_snapshots(project_id: ObjectId, user: CurrentUser):
    """The project's export snapshots."""
    snapshots = export_snapshots.list_snapshots(user, project_id)
    users = user_store.batch_get(s.created_by for s in snapshots)
    return [_snapshot_json(s, users) for s in snapshots]


@router.get(
    "/api/projects/{project_id}/exports/{snapshot_id}", response_model=ExportSnapshot, tags=["Export"]
)
def get_snapshot(project_id: ObjectId, snapshot_id: ObjectId, user: CurrentUser):
    """An export snapshot and its conversions."""
    snapshot = export_snapshots.get(user, project_id, snapshot_id)
    return _snapshot_json(snapshot, user_store.batch_get([snapshot.created_by]))


@router.delete("/api/projects/{project_id}/exports/{snapshot_id}", status_code=204, tags=["Export"])
def delete_snapshot(project_id: ObjectId, snapshot_id: ObjectId, user: CurrentUser):
    """Delete an export snapshot and its files."""
    export_snapshots.delete(user, project_id, snapshot_id)
    return Response(status_code=204)


@router.post(
    "/api/projects/{project_id}/exports/{snapshot_id}/convert",
    response_model=ConvertedSnapshot,
    tags=["Export"],
    responses=error_responses(413),
)
async def convert_snapshot(
    project_id: ObjectId, snapshot_id: ObjectId, body: ConvertRequest, user: CurrentUser
):
    """Convert a completed snapshot to another format, in the background."""
    snapshot = await run_in_threadpool(
        export_snapshots.convert, user, project_id, snapshot_id, body.export_type
    )
    return {
        "id": snapshot.id,
        "export_type": body.export_type,
        "converted_formats": [
            {"export_type": name, "status": status} for name, status in sorted(snapshot.converted.items())
        ],
    }


@router.get(
    "/api/projects/{project_id}/exports/{snapshot_id}/download",
    tags=["Export"],
    status_code=303,
    response_class=RedirectResponse,
    responses={303: {"description": "Location: a presigned URL of the file."}},
)
def download_snapshot(
    project_id: ObjectId,
    snapshot_id: ObjectId,
    user: CurrentUser,
    export_type: ExportType = None,
    legacy_export_type: LegacyExportType = None,
):
    """Download a snapshot's file (JSON, or a format it was converted to): a redirect to the file."""
    url = export_snapshots.download_url(user, project_id, snapshot_id, export_type or legacy_export_type)
    # 303: the client fetches the file from S3 directly, however large it is.
    return RedirectResponse(url, status_code=303)
