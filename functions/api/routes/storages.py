"""/api/storages: a project's S3 source storages (`s3`) and target storages (`export/s3`), with Label
Studio's paths and JSON (ls-protocol.md section 7). A sync answers at once with status `queued`; clients
poll the storage until `completed` (or `failed`, with the reason in `traceback`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from functions.api.auth import CurrentUser
from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import COMMON_ERRORS, ObjectId, RequestBody, error_responses
from functions.api.schemas.storages import (
    PatchedS3ExportStorageRequest,
    PatchedS3ImportStorageRequest,
    S3ExportStorage,
    S3ExportStorageCheck,
    S3ExportStorageRequest,
    S3ImportStorage,
    S3ImportStorageCheck,
    S3ImportStorageRequest,
    StorageType,
)
from functions.domain.ls_json import iso
from functions.domain.storage import SOURCE, STORAGE_TYPES, TARGET, storage_json
from functions.services import storages

router = APIRouter(route_class=LabelStudioRoute, tags=["Storages"], responses=COMMON_ERRORS)
_BASES = {SOURCE: "/api/storages/s3", TARGET: "/api/storages/export/s3"}
_NAMES = {SOURCE: "source (import)", TARGET: "target (export)"}
ProjectParam = Annotated[ObjectId, Query(description="The project whose storages to list.")]
_WITH_BODY = error_responses(409, 413)


def _json(storage) -> dict:
    return storage_json(storage, iso)


@router.get("/api/storages/types", response_model=list[StorageType])
@router.get("/api/storages/export/types", response_model=list[StorageType])
def storage_types(user: CurrentUser):
    """The kinds of storage there are: S3."""
    return STORAGE_TYPES


@router.get("/api/storages", response_model=list[S3ImportStorage])
def all_sources(user: CurrentUser, project: ProjectParam):
    """A project's source storages, of every kind."""
    return [_json(s) for s in storages.list_for(user, project, SOURCE)]


@router.get("/api/storages/export", response_model=list[S3ExportStorage])
def all_targets(user: CurrentUser, project: ProjectParam):
    """A project's target storages, of every kind."""
    return [_json(s) for s in storages.list_for(user, project, TARGET)]


def _taking(model: type[RequestBody]) -> Callable[[Callable], Callable]:
    """FastAPI reads a body's model from the route function's annotation; the routes of both kinds of
    storage are the same functions, each kind with its own models, so the annotation is set here."""

    def annotate(endpoint: Callable) -> Callable:
        endpoint.__annotations__["body"] = model
        return endpoint

    return annotate


def _routes(
    kind: str,
    answer: type[S3ImportStorage | S3ExportStorage],
    answers: Any,
    create_body: type[RequestBody],
    patch_body: type[RequestBody],
    check_body: type[RequestBody],
) -> None:
    base, name = _BASES[kind], _NAMES[kind]

    @router.get(
        base,
        name=f"list_{kind}_s3",
        response_model=answers,
        summary=f"List {name} storages",
        description="A project's S3 storages of this kind.",
    )
    def list_storages(user: CurrentUser, project: ProjectParam):
        return [_json(s) for s in storages.list_for(user, project, kind)]

    @router.post(
        base,
        status_code=201,
        name=f"create_{kind}_s3",
        response_model=answer,
        responses=_WITH_BODY,
        summary=f"Create a {name} storage",
        description="Managers. The bucket is checked first (a role is tried at the first sync, when the "
        "storage's external_id exists for its trust policy).",
    )
    @_taking(create_body)
    async def create_storage(body: RequestBody, user: CurrentUser):
        return _json(await run_in_threadpool(storages.create, user, kind, body.sent()))

    @router.post(
        f"{base}/validate",
        name=f"validate_{kind}_s3",
        response_class=Response,
        responses={200: {"description": "The settings work (an empty answer)."}, **_WITH_BODY},
        summary=f"Check a {name} storage's settings",
        description="Reaches the bucket without saving anything.",
    )
    @_taking(check_body)
    async def validate_storage(body: RequestBody, user: CurrentUser):
        await run_in_threadpool(storages.validate, user, kind, body.sent())
        return Response(status_code=200)

    @router.get(
        f"{base}/{{storage_id}}",
        name=f"get_{kind}_s3",
        response_model=answer,
        summary=f"A {name} storage",
        description="Its settings (never its secrets) and how its last sync went.",
    )
    def get_storage(storage_id: ObjectId, user: CurrentUser):
        return _json(storages.get(user, storage_id, kind))

    @router.patch(
        f"{base}/{{storage_id}}",
        name=f"update_{kind}_s3",
        response_model=answer,
        responses=_WITH_BODY,
        summary=f"Change a {name} storage",
        description="Managers. A new location is checked before it is saved.",
    )
    @_taking(patch_body)
    async def update_storage(storage_id: ObjectId, body: RequestBody, user: CurrentUser):
        return _json(await run_in_threadpool(storages.update, user, storage_id, kind, body.sent()))

    @router.delete(
        f"{base}/{{storage_id}}",
        status_code=204,
        name=f"delete_{kind}_s3",
        summary=f"Delete a {name} storage",
        description="Managers. The tasks it imported, or the objects it wrote, stay.",
    )
    def delete_storage(storage_id: ObjectId, user: CurrentUser):
        storages.delete(user, storage_id, kind)
        return Response(status_code=204)

    @router.post(
        f"{base}/{{storage_id}}/sync",
        name=f"sync_{kind}_s3",
        response_model=answer,
        summary=f"Sync a {name} storage",
        description="Queues a sync and answers at once (status queued); poll the storage for the outcome.",
    )
    def sync_storage(storage_id: ObjectId, user: CurrentUser):
        return _json(storages.queue_sync(user, storage_id, kind))


_routes(
    SOURCE,
    S3ImportStorage,
    list[S3ImportStorage],
    S3ImportStorageRequest,
    PatchedS3ImportStorageRequest,
    S3ImportStorageCheck,
)
_routes(
    TARGET,
    S3ExportStorage,
    list[S3ExportStorage],
    S3ExportStorageRequest,
    PatchedS3ExportStorageRequest,
    S3ExportStorageCheck,
)
