"""Annotations: create, read, change, delete — keeping task and project counters exact."""

from __future__ import annotations

from functions.domain import fields as field_types
from functions.domain.errors import NotFound, PermissionDenied, ValidationFailed
from functions.domain.label_stream import counts_toward_labeled
from functions.domain.records import Annotation, Project, User, utcnow
from functions.services import access, drafts, stream_history
from functions.services.projects import config_of
from functions.store import annotations as annotation_store
from functions.store import projects as project_store
from functions.store import tasks as task_store
from functions.store import users as user_store

LAST_ACTION_MAX = 128


def _validate_result(project: Project, result) -> list:
    if result is None:
        return []
    if not isinstance(result, list):
        raise ValidationFailed.field("result", "Expected a list of regions.")
    try:
        config_of(project).validate_result(result)
    except ValueError as exc:
        raise ValidationFailed.field("result", str(exc)) from None
    return result


def _lead_time(value) -> float | None:
    return field_types.optional(field_types.number, value, "lead_time")


def _flag(fields: dict, name: str) -> bool:
    # DRF's BooleanField: "false" is False (bool("false") would be True); null is the default, False.
    return field_types.optional(field_types.boolean, fields.get(name), name) or False


def _parent(fields: dict, name: str) -> int | None:
    return field_types.optional(
        field_types.integer, fields.get(name), name, minimum=1, maximum=field_types.ID_MAX
    )


def _last_action(value) -> str | None:
    # Label Studio's choice of what was done last ("submitted", "updated", "imported", ...); kept as sent.
    return field_types.optional(field_types.text, value, "last_action", max_length=LAST_ACTION_MAX)


def annotation_for(user: User, annotation_id: int, *, change: bool = False) -> tuple[Annotation, Project]:
    annotation = annotation_store.get(annotation_id)
    try:
        project = access.project_for(user, annotation.project_id)
    except NotFound:
        raise NotFound("No Annotation matches the given query.") from None
    if change and annotation.completed_by != user.id and user.role == "annotator":
        raise PermissionDenied("Annotators can change only their own annotations.")
    return annotation, project


def list_for_task(user: User, task_id: int) -> tuple[list[Annotation], dict[int, User]]:
    task, _ = access.task_for(user, task_id)
    annotations = annotation_store.batch_get(task.annotation_ids)
    return annotations, user_store.batch_get(a.completed_by for a in annotations)


def create(user: User, task_id: int, fields: dict) -> Annotation:
    task, project = access.task_for(user, task_id)
    was_cancelled = _flag(fields, "was_cancelled")
    if was_cancelled and not project.show_skip_button:
        raise ValidationFailed.field("was_cancelled", "Skipping tasks is turned off in this project.")
    result = _validate_result(project, fields.get("result"))
    draft = drafts.checked_for_submit(user, task, fields.get("draft_id"))
    annotation = Annotation(
        id=annotation_store.new_ids(1),
        task_id=task.id,
        project_id=project.id,
        result=result,
        completed_by=user.id,
        updated_by=user.id,
        was_cancelled=was_cancelled,
        ground_truth=_flag(fields, "ground_truth"),
        lead_time=_lead_time(fields.get("lead_time")),
        parent_prediction=_parent(fields, "parent_prediction"),
        parent_annotation=_parent(fields, "parent_annotation"),
        last_action=_last_action(fields.get("last_action")),
    )
    created = annotation_store.insert(
        annotation, counts_toward_labeled=counts_toward_labeled(was_cancelled, project.skip_queue)
    )
    # Submitted from a draft: the draft has become the annotation (Label Studio deletes it).
    drafts.forget(draft)
    stream_history.answered(project.id, user.id, task.id, created.id)
    return created


def update(user: User, annotation_id: int, fields: dict, expected_version: int | None = None) -> Annotation:
    """Change the fields `fields` carries, all or none, leaving the others (and a review) as they are.

    `expected_version` is the version the client stated (body or If-Match): a stale one is a Conflict.
    Without one the change applies to whatever is stored.
    """
    annotation, project = annotation_for(user, annotation_id, change=True)
    draft = drafts.checked_for_submit(user, task_store.get(annotation.task_id), fields.get("draft_id"))
    changes: dict = {"updated_by": user.id, "updated_at": utcnow()}
    if "result" in fields:
        changes["result"] = _validate_result(project, fields["result"])
    if "lead_time" in fields:
        changes["lead_time"] = _lead_time(fields["lead_time"])
    if "ground_truth" in fields and fields["ground_truth"] is not None:
        changes["ground_truth"] = _flag(fields, "ground_truth")
    if "last_action" in fields:
        changes["last_action"] = _last_action(fields["last_action"])
    if "was_cancelled" in fields and _flag(fields, "was_cancelled") != annotation.was_cancelled:
        raise ValidationFailed.field("was_cancelled", "Delete the annotation and submit a new one instead.")
    before, updated = annotation_store.update_fields(
        annotation.id, changes, expected_version=expected_version
    )
    # From the values the write replaced, so concurrent ground-truth flips each count once.
    gt_delta = int(updated.ground_truth) - int(before.ground_truth)
    if gt_delta:
        project_store.add_counters(project.id, ground_truth_number=gt_delta)
    drafts.forget(draft)
    return updated


def delete(user: User, annotation_id: int) -> None:
    annotation, project = annotation_for(user, annotation_id, change=True)
    task = task_store.get(annotation.task_id)
    others = annotation_store.batch_get([i for i in task.annotation_ids if i != annotation.id])
    annotation_store.remove(
        annotation,
        others=others,
        counts_toward_labeled=counts_toward_labeled(annotation.was_cancelled, project.skip_queue),
    )
    drafts.delete_for_task(task.id, annotation.id)  # its drafts go with it, as in Label Studio
