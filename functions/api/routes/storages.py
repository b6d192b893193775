"""/api/storages: a project's S3 source storages (`s3`) and target storages (`export/s3`), with Label
Studio's paths and JSON (ls-protocol.md section 7). A sync answers at once with status `queued`; clients
poll the storage until `completed` (or `failed`, with the reason in `traceback`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from functions.api.auth import current_user
from functions.api.bodies import json_body, required_int_param
from functions.domain.ls_json import iso
from functions.domain.records import User
from functions.domain.storage import SOURCE, STORAGE_TYPES, TARGET, storage_json
from functions.services import storages

router = APIRouter()
_BASES = {SOURCE: "/api/storages/s3", TARGET: "/api/storages/export/s3"}


def _json(storage) -> dict:
    return storage_json(storage, iso)


@router.get("/api/storages/types")
@router.get("/api/storages/export/types")
def storage_types(user: User = Depends(current_user)):
    return STORAGE_TYPES


@router.get("/api/storages")
def all_sources(request: Request, user: User = Depends(current_user)):
    project_id = required_int_param(request.query_params.get("project"), "project")
    return [_json(s) for s in storages.list_for(user, project_id, SOURCE)]


@router.get("/api/storages/export")
def all_targets(request: Request, user: User = Depends(current_user)):
    project_id = required_int_param(request.query_params.get("project"), "project")
    return [_json(s) for s in storages.list_for(user, project_id, TARGET)]


def _routes(kind: str) -> None:
    base = _BASES[kind]

    @router.get(base, name=f"list_{kind}_s3")
    def list_storages(request: Request, user: User = Depends(current_user)):
        project_id = required_int_param(request.query_params.get("project"), "project")
        return [_json(s) for s in storages.list_for(user, project_id, kind)]

    @router.post(base, status_code=201, name=f"create_{kind}_s3")
    async def create_storage(request: Request, user: User = Depends(current_user)):
        body = await json_body(request)
        return _json(await run_in_threadpool(storages.create, user, kind, body))

    @router.post(f"{base}/validate", name=f"validate_{kind}_s3")
    async def validate_storage(request: Request, user: User = Depends(current_user)):
        body = await json_body(request)
        await run_in_threadpool(storages.validate, user, kind, body)
        return Response(status_code=200)

    @router.get(f"{base}/{{storage_id}}", name=f"get_{kind}_s3")
    def get_storage(storage_id: int, user: User = Depends(current_user)):
        return _json(storages.get(user, storage_id, kind))

    @router.patch(f"{base}/{{storage_id}}", name=f"update_{kind}_s3")
    async def update_storage(storage_id: int, request: Request, user: User = Depends(current_user)):
        body = await json_body(request)
        return _json(await run_in_threadpool(storages.update, user, storage_id, kind, body))

    @router.delete(f"{base}/{{storage_id}}", status_code=204, name=f"delete_{kind}_s3")
    def delete_storage(storage_id: int, user: User = Depends(current_user)):
        storages.delete(user, storage_id, kind)
        return Response(status_code=204)

    @router.post(f"{base}/{{storage_id}}/sync", name=f"sync_{kind}_s3")
    def sync_storage(storage_id: int, user: User = Depends(current_user)):
        return _json(storages.queue_sync(user, storage_id, kind))


_routes(SOURCE)
_routes(TARGET)
