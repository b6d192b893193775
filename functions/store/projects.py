"""Projects, their counters and their members."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from functions.domain.errors import NotFound, ValidationFailed
from functions.domain.project_fields import fits
from functions.domain.records import Project, utcnow
from functions.store import ids, model_versions, setting_maps
from functions.store.errors import conflict_on_condition, is_condition_failure
from functions.store.models import MembershipModel, ProjectModel

COUNTERS = (
    "task_number",
    "total_annotations_number",
    "skipped_annotations_number",
    "ground_truth_number",
    "total_predictions_number",
    "num_tasks_with_annotations",
    "finished_task_number",
    "tasks_removed",
)
_STORED_APART = {"id", "title", "created_by", "created_at", "version", *COUNTERS}
SETTINGS = tuple(f.name for f in dataclasses.fields(Project) if f.name not in _STORED_APART)
# The settings share the project's item, which DynamoDB bounds at 400 KB; a few of them are long text
# (label config, instructions, description), so each is held to this.
SETTING_MAX_BYTES = 100 * 1024


def _setting_text(name: str, value: Any) -> str:
    text = setting_maps.dumps(value)
    if len(text.encode()) > SETTING_MAX_BYTES:
        raise ValidationFailed.field(
            name, f"Too large: a project setting takes at most {SETTING_MAX_BYTES // 1024} KB."
        )
    return text


def _stored_settings(item: ProjectModel | SimpleNamespace) -> dict[str, Any]:
    """The settings an item holds (setting_maps.py); one of the wrong type (stored before its checks
    existed) reads as its default."""
    stored = setting_maps.stored(item.settings, item.setting_values, SETTINGS)
    return {name: value for name, value in stored.items() if fits(name, value)}


def _to_project(item: ProjectModel | SimpleNamespace) -> Project:
    counters: dict[str, Any] = {c: int(getattr(item, c) or 0) for c in COUNTERS}
    return Project(
        id=int(item.id),
        title=item.title,
        created_by=int(item.created_by),
        created_at=item.created_at,
        version=int(item.version or 0),
        **counters,
        **_stored_settings(item),
    )


def _setting_values(project: Project) -> dict[str, str]:
    return setting_maps.texts({name: getattr(project, name) for name in SETTINGS}, _setting_text)


def new_id() -> int:
    return ids.reserve("project")


def create(project: Project) -> Project:
    item = ProjectModel(
        project.id,
        title=project.title,
        created_by=project.created_by,
        created_at=project.created_at,
        setting_values=_setting_values(project),
        version=0,
    )
    with conflict_on_condition("project id already taken"):
        item.save(condition=ProjectModel.id.does_not_exist())
    MembershipModel(project.id, project.created_by, created_at=utcnow()).save()
    model_versions.mark_counted(project.id)  # no predictions yet: its counts are complete from here
    return project


def get(project_id: int, *, consistent: bool = False) -> Project:
    try:
        return _to_project(ProjectModel.get_plain(project_id, consistent=consistent))
    except ProjectModel.DoesNotExist:
        raise NotFound("No Project matches the given query.") from None


def batch_get(project_ids) -> list[Project]:
    wanted = list(dict.fromkeys(int(p) for p in project_ids))
    found = (
        {int(item.id): _to_project(item) for item in ProjectModel.batch_get_plain(wanted)} if wanted else {}
    )
    return [found[p] for p in wanted if p in found]


def update_settings(
    project_id: int,
    changes: dict[str, Any],
    *,
    expected_version: int | None = None,
    unchanged: dict[str, Any] | None = None,
) -> tuple[Project, Project]:
    """Set the title and settings in `changes`, and only those, in one UpdateItem that bumps the version;
    return the project as it was just before the write and as the write left it.

    Concurrent changes of different settings all land (see field_updates.py). Refused with Conflict
    when `expected_version` is given and stale, or when a setting in `unchanged` no longer holds the
    value given there (a value the caller derived from it would be stale); NotFound when it is gone.
    """
    entries: dict[str, str] = {}
    actions: list[Action] = []
    for name, value in changes.items():
        if name == "title":
            actions.append(ProjectModel.title.set(value))
        elif name in SETTINGS:
            entries[name] = _setting_text(name, value)
        else:
            raise ValueError(f"{name!r} is not a project setting")
    old = setting_maps.update(
        ProjectModel,
        project_id,
        entries,
        document="settings",
        actions=actions,
        expected_version=expected_version,
        unchanged=setting_maps.texts(unchanged or {}),
        stale="The project was changed by someone else; reload it and try again.",
        missing="No Project matches the given query.",
    )
    before = _to_project(old)
    return before, dataclasses.replace(before, **changes, version=before.version + 1)


def counter_actions(**deltas: int) -> list:
    """ADD expressions for the non-zero counter deltas (atomic, never read-modify-write)."""
    return [getattr(ProjectModel, name).add(delta) for name, delta in deltas.items() if delta]


def add_counters(project_id: int, **deltas: int) -> None:
    """Add the deltas to the project's counters, atomically. NotFound when the project is gone."""
    actions = counter_actions(**deltas)
    if not actions:
        return
    try:
        ProjectModel(project_id).update(actions=actions, condition=ProjectModel.id.exists())
    except UpdateError as exc:
        if is_condition_failure(exc):
            raise NotFound("No Project matches the given query.") from exc
        raise


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
