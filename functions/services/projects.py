"""Create, read, change and delete projects; manage their members."""

from __future__ import annotations

import random
import time
from typing import Any

from functions.domain.errors import Conflict, NotFound, ValidationFailed
from functions.domain.label_config import LabelConfig, parse_label_config
from functions.domain.label_stream import UNCERTAINTY
from functions.domain.project_fields import clean_project_fields
from functions.domain.records import Project, User, utcnow
from functions.services import access, jobs, model_versions, webhooks
from functions.store import projects as project_store
from functions.store import users as user_store

EDITABLE = ("title", *project_store.SETTINGS)
# A label config change derives `control_weights` from the stored ones; a concurrent change of those is
# met by deriving again, a few times at most.
_DERIVED_ATTEMPTS = 5


def config_of(project: Project) -> LabelConfig:
    return parse_label_config(project.label_config)


def create_project(user: User, fields: dict[str, Any]) -> Project:
    access.require_manager(user)
    changes = clean_project_fields({k: v for k, v in fields.items() if k in EDITABLE})
    project = Project(id=0, title=changes.pop("title", "") or "", created_by=user.id)
    for name, value in changes.items():
        setattr(project, name, value)
    config = parse_label_config(project.label_config)
    if "control_weights" not in changes:
        project.control_weights = config.control_weights()
    project.id = project_store.new_id()
    created = project_store.create(project)
    webhooks.project_created(created)
    return created


def get_project(user: User, project_id: int) -> Project:
    return access.project_for(user, project_id)


def list_projects(user: User, page: int, page_size: int) -> tuple[int, list[Project]]:
    """One page of the projects `user` can see, newest first, and how many there are in all."""
    ids = project_store.all_ids() if user.is_admin else project_store.member_project_ids(user.id)
    start = (page - 1) * page_size
    if page > 1 and start >= len(ids):
        raise NotFound("Invalid page.")
    return len(ids), project_store.batch_get(ids[start : start + page_size])


def update_project(
    user: User, project_id: int, fields: dict[str, Any], expected_version: int | None = None
) -> Project:
    """Apply the settings `fields` carries, all or none, leaving the others as they are.

    `expected_version` is the version the client stated (body or If-Match): a stale one is a Conflict.
    Without one the change applies to whatever is stored, and concurrent changes of other settings
    are kept (the store sets only the carried ones, in one conditional write).
    """
    project = access.project_for(user, project_id, manage=True)
    changes = clean_project_fields({k: v for k, v in fields.items() if k in EDITABLE})
    chosen = changes.get("model_version")
    if chosen and chosen != project.model_version:
        model_versions.check_selectable(project, chosen)
    if changes.get("show_collab_predictions") is False:
        changes["model_version"] = ""  # Label Studio: annotators see no predictions, so none is chosen
    config = parse_label_config(changes["label_config"]) if "label_config" in changes else None
    if not changes:
        if expected_version is not None and expected_version != project.version:
            raise Conflict("The project was changed by someone else; reload it and try again.")
        return project
    for attempt in range(_DERIVED_ATTEMPTS):
        derived: dict[str, Any] = {}
        if config is not None and "control_weights" not in changes:
            # The new config keeps the weights the project holds for its surviving controls: written
            # only if those are still the stored ones.
            derived["control_weights"] = config.control_weights(project.control_weights)
        try:
            before, after = project_store.update_settings(
                project.id,
                {**changes, **derived},
                expected_version=expected_version,
                unchanged={"control_weights": project.control_weights} if derived else None,
            )
            break
        except Conflict:
            if not derived or attempt == _DERIVED_ATTEMPTS - 1:
                raise
            project = project_store.get(project.id, consistent=True)
            if expected_version is not None and project.version != expected_version:
                raise
            time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 -- jitter, no secret
    _follow_queue_settings(before, after)
    webhooks.project_updated(after, utcnow())
    return after


def _queue_settings(project: Project) -> tuple:
    """What every task's queue entry follows: its overlap, and under Uncertainty sampling the model
    version whose scores order the queue. Another sampling does not read those keys, so a model version
    set then (connecting a model, importing predictions) rewrites no task; switching to Uncertainty
    sampling refreshes them."""
    return project.maximum_annotations, project.model_version if project.sampling == UNCERTAINTY else None


def _follow_queue_settings(before: Project, after: Project) -> None:
    """A change of the queue's settings, as the write itself saw it, refreshes every task's entry."""
    if _queue_settings(after) != _queue_settings(before):
        jobs.submit("refresh_label_queue", {"project_id": after.id})


def replace_model_version(project_id: int, current: str, new: str) -> bool:
    """Move the project from model version `current` to `new` if it is still on `current` (one write of
    that setting alone, conditional on it: an annotator's or manager's choice made meanwhile stands).
    False when it was on another one."""
    try:
        before, after = project_store.update_settings(
            project_id, {"model_version": new}, unchanged={"model_version": current}
        )
    except (Conflict, NotFound):
        return False
    _follow_queue_settings(before, after)
    return True


def follow_model_version(project_id: int, model_version: str) -> None:
    """The project shows its live model's predictions: move it to the version that model now serves
    (a retrain). One write of that setting alone, so it neither loses nor overwrites a concurrent edit."""
    before, after = project_store.update_settings(project_id, {"model_version": model_version})
    _follow_queue_settings(before, after)


def delete_project(user: User, project_id: int) -> None:
    """The project disappears at once; its tasks, annotations and predictions are removed by a job."""
    access.project_for(user, project_id, manage=True)
    project_store.delete(project_id)
    project_store.remove_all_members(project_id)
    webhooks.project_deleted(project_id, utcnow())
    jobs.submit("delete_project_contents", {"project_id": project_id})


def members(user: User, project_id: int) -> list[User]:
    access.project_for(user, project_id)
    return list(user_store.batch_get(project_store.member_ids(project_id)).values())


def add_member(user: User, project_id: int, member_id: int) -> User:
    access.project_for(user, project_id, manage=True)
    try:
        member = user_store.get(member_id)
    except NotFound:
        raise ValidationFailed.field("user", f"User {member_id} does not exist.") from None
    project_store.add_member(project_id, member.id)
    return member


def remove_member(user: User, project_id: int, member_id: int) -> None:
    access.project_for(user, project_id, manage=True)
    project_store.remove_member(project_id, member_id)
