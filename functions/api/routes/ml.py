"""/api/ml: a project's ML backends (Label Studio's paths and JSON, plus `kind: "sagemaker"`), the
prediction job poll, and `/tasks/{id}/presign` that backends fetch media through. Routes that call the
backend run on the backend-call threads (functions/api/backend_calls.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from functions.api.auth import current_user
from functions.api.backend_calls import call_backends
from functions.api.bodies import flag, json_body, required_int_param
from functions.api.errors import error_response
from functions.domain.ls_json import iso
from functions.domain.ml_backend import backend_json
from functions.domain.records import User
from functions.services import ml_backends, ml_predictions, task_media, training

router = APIRouter()


def _json(backend) -> dict:
    return backend_json(backend, iso)


@router.get("/api/ml")
def list_backends(request: Request, user: User = Depends(current_user)):
    project_id = required_int_param(request.query_params.get("project"), "project")
    return [_json(b) for b in ml_backends.list_for(user, project_id)]


@router.post("/api/ml", status_code=201)
async def create_backend(request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    return _json(await call_backends(ml_backends.create, user, body))


@router.get("/api/ml/{backend_id}")
async def get_backend(backend_id: int, user: User = Depends(current_user)):
    return _json(await call_backends(ml_backends.get, user, backend_id))


@router.patch("/api/ml/{backend_id}")
async def update_backend(backend_id: int, request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    return _json(await call_backends(ml_backends.update, user, backend_id, body))


@router.delete("/api/ml/{backend_id}", status_code=204)
def delete_backend(backend_id: int, user: User = Depends(current_user)):
    ml_backends.delete(user, backend_id)
    return Response(status_code=204)


@router.get("/api/ml/{backend_id}/versions")
async def versions(backend_id: int, user: User = Depends(current_user)):
    return await call_backends(ml_backends.versions, user, backend_id)


@router.post("/api/ml/{backend_id}/train")
def train(backend_id: int, user: User = Depends(current_user)):
    training.start_by_hand(user, backend_id)
    return Response(status_code=200)  # Label Studio answers 200 with an empty body; the run goes on


@router.get("/api/ml/{backend_id}/trainings")
def trainings(backend_id: int, user: User = Depends(current_user)):
    return training.list_trainings(user, backend_id)


@router.post("/api/ml/{backend_id}/predict/test")
async def predict_test(backend_id: int, request: Request, user: User = Depends(current_user)):
    if not flag(request.query_params.get("random")):
        await call_backends(ml_backends.backend_for, user, backend_id, manage=True)
        return error_response(501, "Only random=true is supported: a test on a random task.")
    return await call_backends(ml_backends.predict_test, user, backend_id)


@router.post("/api/ml/{backend_id}/interactive-annotating")
async def interactive_annotating(backend_id: int, request: Request, user: User = Depends(current_user)):
    body = await json_body(request)
    return JSONResponse(await call_backends(ml_backends.interactive, user, backend_id, body))


@router.get("/api/ml/{backend_id}/jobs/{job_id}")
def prediction_job(backend_id: int, job_id: int, user: User = Depends(current_user)):
    return ml_predictions.job_status(user, backend_id, job_id)


@router.get("/api/tasks/{task_id}/presign")
@router.get("/tasks/{task_id}/presign")
@router.get("/api/tasks/{task_id}/resolve")
@router.get("/tasks/{task_id}/resolve")
def presign(task_id: int, request: Request, user: User = Depends(current_user)):
    url = task_media.presigned_url(user, task_id, request.query_params.get("fileuri"))
    return RedirectResponse(url, status_code=303)
