"""A project's model versions: which its predictions carry (`GET /api/projects/{id}/model-versions`), and
which its `model_version` may name (Label Studio's `projects/api.py` `ProjectModelVersions`,
`projects/models.py` `get_model_versions`, `projects/serializers.py` `validate_model_version`).

The project's `model_version` chooses the predictions annotators see: a version that predictions carry
(imported ones, or a model's earlier answers), or the title of one of its ML backends, meaning whatever
that backend serves now. The counts come from store/model_versions.py, one Query per project.
"""

from __future__ import annotations

import logging

from functions.domain.errors import ValidationFailed
from functions.domain.ls_json import iso
from functions.domain.ml_backend import backend_json
from functions.domain.records import Project, User
from functions.services import access, jobs
from functions.store import ml_backends as backend_store
from functions.store import model_versions as version_store

logger = logging.getLogger(__name__)

UNKNOWN = "Model version doesn't exist either as live model or as static predictions."
# A project from before the counts is counted in the request that first needs it up to this many
# predictions; a larger one in the background (its versions appear when that is done).
INLINE_COUNT = 2000


def _counted(project: Project) -> None:
    if version_store.is_counted(project.id) or not version_store.claim_count(project.id):
        return
    if project.total_predictions_number <= INLINE_COUNT:
        version_store.recount(project.id)
    else:
        jobs.submit("count_model_versions", {"project_id": project.id})


def count_job(project_id: int) -> int:
    """Job: count a project's predictions by version (one from before the counts existed)."""
    return version_store.recount(project_id)


def listing(
    user: User, project_id: int, *, extended: bool = False, include_live_models: bool = False, limit=None
) -> dict:
    """Label Studio's answer: `{version: predictions}`, the latest first, with the project's own
    `model_version` at 0 when no prediction carries it (at most `limit` versions); or, `extended`,
    `{"static": [{model_version, count, latest}], "live": [the ML backends] | null}` (`live` with
    `include_live_models`)."""
    project = access.project_for(user, project_id)
    _counted(project)
    found = version_store.counts(project.id)
    if extended:
        live = None
        if include_live_models:
            live = [backend_json(b, iso) for b in backend_store.list_for_project(project.id)]
        static = [
            {"model_version": v.model_version, "count": v.count, "latest": iso(v.latest)} for v in found
        ]
        return {"static": static, "live": live}
    if limit:
        found = found[:limit]
    answer = {v.model_version: v.count for v in found}
    if project.model_version and project.model_version not in answer and (not limit or len(answer) < limit):
        answer[project.model_version] = 0
    return answer


def check_selectable(project: Project, model_version: str) -> None:
    """A 400 naming `model_version` unless it is one of the project's ML backends' titles or a version
    some of its predictions carry (Label Studio checks only a change to a non-empty value)."""
    if any(b.title == model_version for b in backend_store.list_for_project(project.id)):
        return
    _counted(project)
    if not version_store.has(project.id, model_version):
        raise ValidationFailed.field("model_version", UNKNOWN)
