"""Create, read, change and delete projects; manage their members."""

from __future__ import annotations

import dataclasses
from typing import Any

from functions.domain.errors import Conflict, NotFound, ValidationFailed
from functions.domain.label_config import LabelConfig, parse_label_config
from functions.domain.project_fields import clean_project_fields
from functions.domain.records import Project, User
from functions.services import access, jobs
from functions.store import projects as project_store
from functions.store import users as user_store

EDITABLE = ("title", *project_store.SETTINGS)


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
    return project_store.create(project)


def get_project(user: User, project_id: int) -> Project:
    return access.project_for(user, project_id)


def list_projects(user: User, page: int, page_size: int) -> tuple[int, list[Project]]:
    """One page of the projects `user` can see, newest first, and how many there are in all."""
    ids = project_store.all_ids() if user.is_admin else project_store.member_project_ids(user.id)
    start = (page - 1) * page_size
    if page > 1 and start >= len(ids):
        raise NotFound("Invalid page.")
    return len(ids), project_store.batch_get(ids[start : start + page_size])


def update_project(user: User, project_id: int, fields: dict[str, Any]) -> Project:
    project = access.project_for(user, project_id, manage=True)
    changes = clean_project_fields({k: v for k, v in fields.items() if k in EDITABLE})
    if "label_config" in changes:
        config = parse_label_config(changes["label_config"])
        if "control_weights" not in changes:
            changes["control_weights"] = config.control_weights(project.control_weights)
    expected = project.version
    before = project
    project = project_store.save_settings(dataclasses.replace(project, **changes), expected)
    if (project.maximum_annotations, project.model_version) != (
        before.maximum_annotations,
        before.model_version,
    ):
        # Every task's overlap or Uncertainty-sampling key follows these settings.
        jobs.submit("refresh_label_queue", {"project_id": project.id})
    return project


def follow_model_version(project_id: int, model_version: str, attempts: int = 3) -> None:
    """The project shows its live model's predictions: move it to the version that model now serves
    (a retrain). A concurrent edit of the settings wins the race once; then the move is tried again."""
    for attempt in range(attempts):
        project = project_store.get(project_id)
        try:
            project_store.save_settings(
                dataclasses.replace(project, model_version=model_version), project.version
            )
        except Conflict:
            if attempt == attempts - 1:
                raise
            continue
        jobs.submit("refresh_label_queue", {"project_id": project_id})
        return


def delete_project(user: User, project_id: int) -> None:
    """The project disappears at once; its tasks, annotations and predictions are removed by a job."""
    access.project_for(user, project_id, manage=True)
    project_store.delete(project_id)
    project_store.remove_all_members(project_id)
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
