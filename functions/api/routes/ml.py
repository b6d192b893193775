"""/api/ml: a project's ML backends (Label Studio's paths and JSON, plus `kind: "sagemaker"`), the
prediction job poll, and `/tasks/{id}/presign` that backends fetch media through. Routes that call the
backend run on the backend-call threads (functions/api/backend_calls.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import RedirectResponse

from functions.api.auth import CurrentUser
from functions.api.backend_calls import call_backends
from functions.api.errors import error_response
from functions.api.routing import LabelStudioRoute
from functions.api.schemas.common import COMMON_ERRORS, ObjectId, QueryFlag, error_responses
from functions.api.schemas.ml import (
    InteractiveRequest,
    InteractiveResult,
    MLBackend,
    MLBackendRequest,
    ModelVersions,
    PatchedMLBackendRequest,
    PredictionJob,
    PredictTest,
    Training,
)
from functions.domain.ls_json import iso
from functions.domain.ml_backend import backend_json
from functions.services import ml_backends, ml_predictions, task_media, training

router = APIRouter(route_class=LabelStudioRoute, tags=["ML"], responses=COMMON_ERRORS)


def _json(backend) -> dict:
    return backend_json(backend, iso)


@router.get("/api/ml", response_model=list[MLBackend])
def list_backends(
    user: CurrentUser, project: Annotated[ObjectId, Query(description="The project's backends.")]
):
    """A project's ML backends."""
    return [_json(b) for b in ml_backends.list_for(user, project)]


@router.post("/api/ml", status_code=201, response_model=MLBackend, responses=error_responses(409, 413))
async def create_backend(body: MLBackendRequest, user: CurrentUser):
    """Register an ML backend (managers): it is connected first (`/health` and `/setup`, or a test
    invocation of a SageMaker endpoint), and one that fails is not saved."""
    return _json(await call_backends(ml_backends.create, user, body.sent()))


@router.get("/api/ml/{backend_id}", response_model=MLBackend)
async def get_backend(backend_id: ObjectId, user: CurrentUser):
    """An ML backend, its state refreshed by asking it."""
    return _json(await call_backends(ml_backends.get, user, backend_id))


@router.patch("/api/ml/{backend_id}", response_model=MLBackend, responses=error_responses(409, 413))
async def update_backend(backend_id: ObjectId, body: PatchedMLBackendRequest, user: CurrentUser):
    """Change an ML backend (managers); a new location is connected before it is saved."""
    return _json(await call_backends(ml_backends.update, user, backend_id, body.sent()))


@router.delete("/api/ml/{backend_id}", status_code=204)
def delete_backend(backend_id: ObjectId, user: CurrentUser):
    """Remove an ML backend (managers)."""
    ml_backends.delete(user, backend_id)
    return Response(status_code=204)


@router.get("/api/ml/{backend_id}/versions", response_model=ModelVersions)
async def versions(backend_id: ObjectId, user: CurrentUser):
    """The model versions the backend offers."""
    return await call_backends(ml_backends.versions, user, backend_id)


@router.post(
    "/api/ml/{backend_id}/train",
    response_class=Response,
    responses={
        200: {"description": "The run started (an empty answer, as Label Studio's)."},
        **error_responses(409),
    },
)
def train(backend_id: ObjectId, user: CurrentUser):
    """Start a training run by hand (managers); poll /trainings for how it went."""
    training.start_by_hand(user, backend_id)
    return Response(status_code=200)  # Label Studio answers 200 with an empty body; the run goes on


@router.get("/api/ml/{backend_id}/trainings", response_model=list[Training])
def trainings(backend_id: ObjectId, user: CurrentUser):
    """The backend's training runs, newest first."""
    return training.list_trainings(user, backend_id)


@router.post(
    "/api/ml/{backend_id}/predict/test",
    response_model=PredictTest,
    responses=error_responses(501),
)
async def predict_test(
    backend_id: ObjectId,
    user: CurrentUser,
    random: Annotated[
        QueryFlag, Query(description="Test on a random task (the only test there is).")
    ] = False,
):
    """Send one random task to the backend's /predict and answer with the whole exchange (managers)."""
    if not random:
        await call_backends(ml_backends.backend_for, user, backend_id, manage=True)
        return error_response(501, "Only random=true is supported: a test on a random task.")
    return await call_backends(ml_backends.predict_test, user, backend_id)


@router.post(
    "/api/ml/{backend_id}/interactive-annotating",
    response_model=InteractiveResult,
    responses=error_responses(413),
)
async def interactive_annotating(backend_id: ObjectId, body: InteractiveRequest, user: CurrentUser):
    """Interactive pre-annotation: the backend's prediction for a task, given what the annotator did.
    A backend failure is a 200 with `errors`, as in Label Studio, so the editor keeps working."""
    return await call_backends(ml_backends.interactive, user, backend_id, body.sent())


@router.get("/api/ml/{backend_id}/jobs/{job_id}", response_model=PredictionJob)
def prediction_job(backend_id: ObjectId, job_id: ObjectId, user: CurrentUser):
    """A background prediction job's progress (Data Manager's retrieve_tasks_predictions on many tasks)."""
    return ml_predictions.job_status(user, backend_id, job_id)


_REDIRECT: dict[int | str, dict[str, Any]] = {303: {"description": "Location: a presigned URL of the file."}}


@router.get(
    "/api/tasks/{task_id}/presign", status_code=303, response_class=RedirectResponse, responses=_REDIRECT
)
@router.get("/tasks/{task_id}/presign", status_code=303, response_class=RedirectResponse, responses=_REDIRECT)
@router.get(
    "/api/tasks/{task_id}/resolve", status_code=303, response_class=RedirectResponse, responses=_REDIRECT
)
@router.get("/tasks/{task_id}/resolve", status_code=303, response_class=RedirectResponse, responses=_REDIRECT)
def presign(
    task_id: ObjectId,
    user: CurrentUser,
    fileuri: Annotated[
        str | None, Query(description="The file's URI as in the task's data (s3://...), URL-safe base64.")
    ] = None,
):
    """A task's file, through a short-lived presigned URL: a redirect. ML backends fetch media so."""
    url = task_media.presigned_url(user, task_id, fileuri)
    return RedirectResponse(url, status_code=303)
