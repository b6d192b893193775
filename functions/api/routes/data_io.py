"""Import into and export out of a project."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.datastructures import UploadFile

from functions.api.auth import current_user
from functions.api.bodies import flag, int_param, json_body
from functions.domain.errors import ValidationFailed
from functions.domain.ls_json import iso, user_brief
from functions.domain.records import User
from functions.services import export_snapshots, exporting, importing
from functions.services import predictions as prediction_service
from functions.store import users as user_store

router = APIRouter()


@router.post("/api/projects/{project_id}/import", status_code=201)
async def import_tasks(project_id: int, request: Request, user: User = Depends(current_user)):
    content_type = request.headers.get("content-type", "")
    digest = hashlib.sha256()
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        files = []
        for _, value in form.multi_items():
            if isinstance(value, UploadFile):
                content = await value.read()
                filename = value.filename or "upload"
                digest.update(filename.encode() + b"\0" + content)
                files.append((filename, content))
        if not files:
            raise ValidationFailed.field("file", "No file in the upload.")
        raw_items = await run_in_threadpool(importing.read_payload, None, files)
    else:
        digest.update(await request.body())
        raw_items = importing.read_payload(await json_body(request, expect=(list, dict)))
    return await run_in_threadpool(
        importing.import_tasks_once,
        user,
        project_id,
        raw_items,
        return_task_ids=flag(request.query_params.get("return_task_ids")),
        idempotency_key=request.headers.get("idempotency-key"),
        body_digest=digest.hexdigest(),
        lambda_context=request.scope.get("aws.context"),
    )


@router.post("/api/projects/{project_id}/import/predictions", status_code=201)
async def import_predictions(project_id: int, request: Request, user: User = Depends(current_user)):
    """Label Studio's predictions import (the legacy SDK's `create_predictions`): `{"created": n}`."""
    body = await json_body(request, expect=list)
    return await run_in_threadpool(prediction_service.import_predictions, user, project_id, body)


@router.get("/api/projects/{project_id}/imports/{import_id}")
def import_status(project_id: int, import_id: int, user: User = Depends(current_user)):
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


@router.get("/api/projects/{project_id}/export/formats")
def export_formats(project_id: int, user: User = Depends(current_user)):
    return exporting.export_formats(user, project_id)


@router.get("/api/projects/{project_id}/export")
async def export(project_id: int, request: Request, user: User = Depends(current_user)):
    q = request.query_params
    export_type = q.get("exportType") or q.get("export_type") or "JSON"
    ids = [i for v in q.getlist("ids") + q.getlist("ids[]") if (i := int_param(v, "ids")) is not None]
    written, body = await run_in_threadpool(
        exporting.export,
        user,
        project_id,
        export_type,
        download_all_tasks=flag(q.get("download_all_tasks")),
        ids=ids or None,
        majority=flag(q.get("majority_vote")),
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


@router.post("/api/projects/{project_id}/exports", status_code=201)
async def create_snapshot(project_id: int, request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    snapshot = await run_in_threadpool(export_snapshots.create, user, project_id, body)
    return _snapshot_json(snapshot, {user.id: user})


@router.get("/api/projects/{project_id}/exports")
def list_snapshots(project_id: int, user: User = Depends(current_user)):
    snapshots = export_snapshots.list_snapshots(user, project_id)
    users = user_store.batch_get(s.created_by for s in snapshots)
    return [_snapshot_json(s, users) for s in snapshots]


@router.get("/api/projects/{project_id}/exports/{snapshot_id}")
def get_snapshot(project_id: int, snapshot_id: int, user: User = Depends(current_user)):
    snapshot = export_snapshots.get(user, project_id, snapshot_id)
    return _snapshot_json(snapshot, user_store.batch_get([snapshot.created_by]))


@router.delete("/api/projects/{project_id}/exports/{snapshot_id}", status_code=204)
def delete_snapshot(project_id: int, snapshot_id: int, user: User = Depends(current_user)):
    export_snapshots.delete(user, project_id, snapshot_id)
    return Response(status_code=204)


@router.post("/api/projects/{project_id}/exports/{snapshot_id}/convert")
async def convert_snapshot(
    project_id: int, snapshot_id: int, request: Request, user: User = Depends(current_user)
):
    body = await json_body(request)
    snapshot = await run_in_threadpool(
        export_snapshots.convert, user, project_id, snapshot_id, body.get("export_type")
    )
    return {
        "id": snapshot.id,
        "export_type": body.get("export_type"),
        "converted_formats": [
            {"export_type": name, "status": status} for name, status in sorted(snapshot.converted.items())
        ],
    }


@router.get("/api/projects/{project_id}/exports/{snapshot_id}/download")
def download_snapshot(
    project_id: int, snapshot_id: int, request: Request, user: User = Depends(current_user)
):
    q = request.query_params
    url = export_snapshots.download_url(
        user, project_id, snapshot_id, q.get("exportType") or q.get("export_type")
    )
    # 303: the client fetches the file from S3 directly, however large it is.
    return RedirectResponse(url, status_code=303)
