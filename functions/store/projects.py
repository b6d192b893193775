"""Projects, their counters and their members."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from functions.domain.errors import NotFound, ValidationFailed
from functions.domain.project_fields import fits
from functions.domain.records import Project, utcnow
from functions.store import ids
from functions.store.errors import conflict_on_condition
from functions.store.models import MembershipModel, ProjectModel

COUNTERS = (
    "task_number",
    "total_annotations_number",
    "skipped_annotations_number",
    "ground_truth_number",
    "total_predictions_number",
    "num_tasks_with_annotations",
    "finished_task_number",
)
_STORED_APART = {"id", "title", "created_by", "created_at", "version", *COUNTERS}
SETTINGS = tuple(f.name for f in dataclasses.fields(Project) if f.name not in _STORED_APART)
SETTINGS_MAX_BYTES = 350 * 1024


def _to_project(item: ProjectModel) -> Project:
    stored = json.loads(item.settings)
    # A setting of the wrong type (stored before its checks existed) reads as its default.
    known: dict[str, Any] = {k: v for k, v in stored.items() if k in SETTINGS and fits(k, v)}
    counters: dict[str, Any] = {c: int(getattr(item, c) or 0) for c in COUNTERS}
    return Project(
        id=int(item.id),
        title=item.title,
        created_by=int(item.created_by),
        created_at=item.created_at,
        version=int(item.version),
        **counters,
        **known,
    )


def _settings_json(project: Project) -> str:
    """The settings as stored. They share the project's item, whose size DynamoDB bounds at 400 KB: a
    project whose settings would not fit is refused naming its largest setting."""
    settings = {name: getattr(project, name) for name in SETTINGS}
    text = json.dumps(settings, separators=(",", ":"), allow_nan=False)
    if len(text.encode()) > SETTINGS_MAX_BYTES:
        largest = max(SETTINGS, key=lambda name: len(json.dumps(settings[name])))
        raise ValidationFailed.field(
            largest, f"Too large: a project's settings take at most {SETTINGS_MAX_BYTES // 1024} KB together."
        )
    return text


def new_id() -> int:
    return ids.reserve("project")


def create(project: Project) -> Project:
    item = ProjectModel(
        project.id,
        title=project.title,
        created_by=project.created_by,
        created_at=project.created_at,
        settings=_settings_json(project),
        version=0,
    )
    with conflict_on_condition("project id already taken"):
        item.save(condition=ProjectModel.id.does_not_exist())
    MembershipModel(project.id, project.created_by, created_at=utcnow()).save()
    return project


def get(project_id: int) -> Project:
    try:
        return _to_project(ProjectModel.get(project_id))
    except ProjectModel.DoesNotExist:
        raise NotFound("No Project matches the given query.") from None


def batch_get(project_ids) -> list[Project]:
    wanted = list(dict.fromkeys(int(p) for p in project_ids))
    found = {int(item.id): _to_project(item) for item in ProjectModel.batch_get(wanted)} if wanted else {}
    return [found[p] for p in wanted if p in found]


def save_settings(project: Project, expected_version: int) -> Project:
    """Write title and settings if nobody changed them since `expected_version` was read."""
    item = ProjectModel(project.id)
    with conflict_on_condition("The project was changed by someone else; reload it and try again."):
        item.update(
            actions=[
                ProjectModel.title.set(project.title),
                ProjectModel.settings.set(_settings_json(project)),
                ProjectModel.version.set(expected_version + 1),
            ],
            condition=ProjectModel.version == expected_version,
        )
    project.version = expected_version + 1
    return project


def counter_actions(**deltas: int) -> list:
    """ADD expressions for the non-zero counter deltas (atomic, never read-modify-write)."""
    return [getattr(ProjectModel, name).add(delta) for name, delta in deltas.items() if delta]


def add_counters(project_id: int, **deltas: int) -> None:
    actions = counter_actions(**deltas)
    if actions:
        ProjectModel(project_id).update(actions=actions, condition=ProjectModel.id.exists())


def reserve_inner_ids(project_id: int, count: int) -> int:
    """Reserve `count` consecutive per-project task numbers (Label Studio's inner_id); return the first."""
    item = ProjectModel(project_id)
    with conflict_on_condition("project is gone"):
        item.update(actions=[ProjectModel.inner_id_seq.add(count)], condition=ProjectModel.id.exists())
    return int(item.inner_id_seq) - count + 1


def delete(project_id: int) -> None:
    ProjectModel(project_id).delete()


def all_ids(organization: int = 1) -> list[int]:
    """Every project id, newest first: admins see all projects (keys only; no Scan)."""
    return [int(k.id) for k in ProjectModel.organization_index.query(organization, scan_index_forward=False)]


# --- members -----------------------------------------------------------------------------------------


def is_member(project_id: int, user_id: int) -> bool:
    try:
        MembershipModel.get(project_id, user_id)
        return True
    except MembershipModel.DoesNotExist:
        return False


def member_project_ids(user_id: int) -> list[int]:
    return sorted((int(m.project_id) for m in MembershipModel.user_index.query(user_id)), reverse=True)


def member_ids(project_id: int) -> list[int]:
    return [int(m.user_id) for m in MembershipModel.query(project_id)]


def add_member(project_id: int, user_id: int) -> None:
    MembershipModel(project_id, user_id, created_at=utcnow()).save()


def remove_member(project_id: int, user_id: int) -> None:
    MembershipModel(project_id, user_id).delete()


def remove_all_members(project_id: int) -> None:
    with MembershipModel.batch_write() as batch:
        for member in MembershipModel.query(project_id):
            batch.delete(member)
