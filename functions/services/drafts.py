"""Annotation drafts (`/api/tasks/{id}/drafts`, `/api/drafts/{id}`): saved while a user labels, given
back with the task, removed when the annotation they lead to is submitted.

A draft is its author's: only they change it; annotators see only their own, the other roles (who may
read anyone's annotations) see every draft of a task. Its result is checked against the label config as
an annotation's is, so a draft can always be submitted as it is.
"""

from __future__ import annotations

from functions.domain import fields as field_types
from functions.domain.drafts import Draft
from functions.domain.errors import NotFound, PermissionDenied, ValidationFailed
from functions.domain.records import Project, Task, User, utcnow
from functions.services import access
from functions.services.projects import config_of
from functions.store import annotations as annotation_store
from functions.store import drafts as draft_store
from functions.store import users as user_store


def _sees_everyones(user: User) -> bool:
    return user.role != "annotator"


def _lead_time(value) -> float | None:
    return field_types.optional(field_types.number, value, "lead_time")


def _postponed(value) -> bool:
    return field_types.optional(field_types.boolean, value, "was_postponed") or False


def _result(project: Project, value) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationFailed.field("result", "Expected a list of regions.")
    try:
        config_of(project).validate_result(value)
    except ValueError as exc:
        raise ValidationFailed.field("result", str(exc)) from None
    return value


def authors(drafts: list[Draft]) -> dict[int, User]:
    return user_store.batch_get(d.user_id for d in drafts)


def list_for_task(user: User, task_id: int, annotation_id: int | None = None) -> list[Draft]:
    task, _ = access.task_for(user, task_id)
    drafts = draft_store.list_for_task(task.id)
    if annotation_id is not None:
        drafts = [d for d in drafts if d.annotation_id == annotation_id]
    return drafts if _sees_everyones(user) else [d for d in drafts if d.user_id == user.id]


def mine(user: User, task: Task) -> list[Draft]:
    """The caller's drafts of a task they may see (what Label Studio gives back with the task)."""
    return [d for d in draft_store.list_for_task(task.id) if d.user_id == user.id]


def create(user: User, task_id: int, fields: dict, annotation_id: int | None = None) -> Draft:
    task, project = access.task_for(user, task_id)
    if annotation_id is not None:
        _annotation_of(task, annotation_id)
    now = utcnow()
    draft = Draft(
        id=draft_store.new_id(),
        task_id=task.id,
        project_id=project.id,
        user_id=user.id,
        result=_result(project, fields.get("result")),
        lead_time=_lead_time(fields.get("lead_time")),
        was_postponed=_postponed(fields.get("was_postponed")),
        annotation_id=annotation_id,
        created_at=now,
        updated_at=now,
    )
    return draft_store.create(draft)


def _annotation_of(task: Task, annotation_id: int) -> None:
    try:
        annotation = annotation_store.get(annotation_id)
    except NotFound:
        raise NotFound("No Annotation matches the given query.") from None
    if annotation.task_id != task.id:
        raise NotFound("No Annotation matches the given query.")


def draft_for(user: User, draft_id: int, *, change: bool = False) -> tuple[Draft, Project]:
    """The draft, if `user` may see it (with `change`, only its author, or for deleting a manager)."""
    draft = draft_store.get(draft_id)
    try:
        project = access.project_for(user, draft.project_id)
    except NotFound:
        raise NotFound(draft_store.NOT_FOUND) from None
    if draft.user_id != user.id and not _sees_everyones(user):
        raise NotFound(draft_store.NOT_FOUND)
    if change and draft.user_id != user.id:
        raise PermissionDenied("Only the draft's author can change it.")
    return draft, project


def update(user: User, draft_id: int, fields: dict) -> Draft:
    draft, project = draft_for(user, draft_id, change=True)
    changes: dict = {"updated_at": utcnow()}
    if "result" in fields:
        changes["result"] = _result(project, fields["result"])
    if "lead_time" in fields:
        changes["lead_time"] = _lead_time(fields["lead_time"])
    if "was_postponed" in fields:
        changes["was_postponed"] = _postponed(fields["was_postponed"])
    return draft_store.update_fields(draft.id, changes)


def delete(user: User, draft_id: int) -> None:
    draft, _ = draft_for(user, draft_id)
    if draft.user_id != user.id and not user.can_manage_projects:
        raise PermissionDenied("Only the draft's author or a manager can delete it.")
    draft_store.delete(draft.id)


def checked_for_submit(user: User, task: Task, draft_id) -> Draft | None:
    """The draft an annotation is submitted from (`draft_id` in its body), checked before anything is
    written: it must be the caller's draft of this task (Label Studio: 403 otherwise). An id of no
    draft is ignored, as Label Studio ignores it."""
    if draft_id is None:
        return None
    draft_id = field_types.integer(draft_id, "draft_id", maximum=field_types.ID_MAX)
    try:
        draft = draft_store.get(draft_id)
    except NotFound:
        return None
    if draft.task_id != task.id or draft.user_id != user.id:
        raise PermissionDenied(f"You have no permission to draft id:{draft_id}")
    return draft


def forget(draft: Draft | None) -> None:
    if draft is not None:
        draft_store.delete(draft.id)


def delete_for_task(task_id: int, annotation_id: int | None = None) -> None:
    """Remove a deleted task's drafts (or those of one of its annotations, when it is deleted)."""
    drafts = draft_store.list_for_task(task_id)
    if annotation_id is not None:
        drafts = [d for d in drafts if d.annotation_id == annotation_id]
    draft_store.delete_many(drafts)
