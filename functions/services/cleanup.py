"""Removing what a deleted project left behind, in the background."""

from __future__ import annotations

from functions.services import file_uploads, ml_backends, webhooks
from functions.store import annotations as annotation_store
from functions.store import dm_views as view_store
from functions.store import drafts as draft_store
from functions.store import ml_backends as backend_store
from functions.store import model_versions as model_version_store
from functions.store import predictions as prediction_store
from functions.store import stream_history as history_store
from functions.store import tasks as task_store


def delete_project_contents(project_id: int) -> int:
    """Delete every task of the project with its annotations, predictions and drafts, its ML backends
    (which frees the SageMaker endpoints the project owned), its webhooks, its uploaded files, its Data
    Manager views and its members' label stream histories. Returns tasks deleted."""
    webhooks.remove_project_webhooks(project_id)
    file_uploads.delete_for_project(project_id)
    for backend in backend_store.list_for_project(project_id):
        ml_backends.remove(backend)
    view_store.delete_for_project(project_id)
    draft_store.delete_for_project(project_id)
    history_store.delete_for_project(project_id)
    deleted = 0
    for chunk in task_store.iter_ids(project_id):
        found = task_store.batch_get(chunk)
        annotation_store.delete_many(i for t in found for i in t.annotation_ids)
        prediction_store.delete_many((i for t in found for i in t.prediction_ids), counted=False)
        task_store.delete_many(chunk)
        deleted += len(chunk)
    model_version_store.delete_for_project(project_id)
    return deleted
