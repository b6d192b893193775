"""Import into and export out of a project."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from functions.api.auth import current_user
from functions.api.bodies import flag, int_param, json_body
from functions.domain.errors import ValidationFailed
from functions.domain.ls_json import iso
from functions.domain.records import User
from functions.services import exporting, importing

router = APIRouter()


@router.post("/api/projects/{project_id}/import", status_code=201)
async def import_tasks(project_id: int, request: Request, user: User = Depends(current_user)):
    content_type = request.headers.get("content-type", "")
    digest = hashlib.sha256()
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        files = []
        for _, value in form.multi_items():
            if hasattr(value, "read"):
                content = await value.read()
                digest.update(value.filename.encode() + b"\0" + content)
                files.append((value.filename or "upload", content))
        if not files:
            raise ValidationFailed.field("file", "No file in the upload.")
        raw_items = await run_in_threadpool(importing.read_payload, None, files)
    else:
        digest.update(await request.body())
        raw_items = importing.read_payload(await json_body(request, expect=(list, dict)))
    return await run_in_threadpool(
        importing.import_tasks_once, user, project_id, raw_items,
        return_task_ids=flag(request.query_params.get("return_task_ids")),
        idempotency_key=request.headers.get("idempotency-key"), body_digest=digest.hexdigest(),
        lambda_context=request.scope.get("aws.context"))


@router.get("/api/projects/{project_id}/imports/{import_id}")
def import_status(project_id: int, import_id: int, user: User = Depends(current_user)):
    job = importing.get_import(user, project_id, import_id)
    return {
        "id": job.id, "project": job.project_id, "status": job.status, "error": job.error,
        "task_count": job.task_count, "annotation_count": job.annotation_count,
        "prediction_count": job.prediction_count, "duration": job.duration,
        "created_at": iso(job.created_at), "finished_at": iso(job.finished_at),
        "task_ids": job.task_ids if job.status == "completed" else [],
    }


@router.get("/api/projects/{project_id}/export")
async def export(project_id: int, request: Request, user: User = Depends(current_user)):
    q = request.query_params
    export_type = q.get("exportType") or q.get("export_type") or "JSON"
    ids = [int_param(v, "ids") for v in q.getlist("ids") + q.getlist("ids[]")]
    chunks = await run_in_threadpool(
        exporting.export_json, user, project_id, export_type,
        download_all_tasks=flag(q.get("download_all_tasks")), ids=ids or None)
    filename = f"project-{project_id}-export.json"
    return StreamingResponse(iterate_in_threadpool(chunks), media_type="application/json",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})
