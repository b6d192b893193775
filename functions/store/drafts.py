"""Annotation drafts: one item per draft, found by task (task index) and by project (project index).

A draft's result is stored as an annotation's is: inline, or in the files bucket when it is large.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from functions.domain.drafts import Draft
from functions.domain.errors import NotFound
from functions.store import blobs, field_updates, ids
from functions.store.errors import conflict_on_condition
from functions.store.models import DraftModel

NOT_FOUND = "No AnnotationDraft matches the given query."
CHANGEABLE = ("lead_time", "was_postponed", "updated_at")


def _result_key(draft_id: int) -> str:
    return f"drafts/{draft_id}/result.json"


def _num(value) -> int | None:
    return int(value) if value is not None else None


def _to_draft(item: DraftModel) -> Draft:
    return Draft(
        id=int(item.id),
        task_id=int(item.task_id),
        project_id=int(item.project_id),
        user_id=int(item.user_id),
        result=blobs.unpack(item.result, item.result_ref, default=[]),
        lead_time=float(item.lead_time) if item.lead_time is not None else None,
        was_postponed=bool(item.was_postponed),
        annotation_id=_num(item.annotation_id),
        import_id=_num(item.import_id),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def new_id() -> int:
    return ids.reserve("draft")


def create(draft: Draft) -> Draft:
    result, result_ref = blobs.pack(draft.result, _result_key(draft.id))
    item = DraftModel(
        draft.id,
        task_id=draft.task_id,
        project_id=draft.project_id,
        user_id=draft.user_id,
        annotation_id=draft.annotation_id,
        result=result,
        result_ref=result_ref,
        lead_time=draft.lead_time,
        was_postponed=draft.was_postponed,
        import_id=draft.import_id,
        created_at=draft.created_at,
        updated_at=draft.updated_at,
    )
    with conflict_on_condition("draft id already taken"):
        item.save(condition=DraftModel.id.does_not_exist())
    return draft


def get(draft_id: int) -> Draft:
    try:
        return _to_draft(DraftModel.get(draft_id, consistent_read=True))
    except DraftModel.DoesNotExist:
        raise NotFound(NOT_FOUND) from None


def list_for_task(task_id: int) -> list[Draft]:
    """The task's drafts, oldest first."""
    return [_to_draft(item) for item in DraftModel.task_index.query(task_id)]


def update_fields(draft_id: int, changes: dict[str, Any]) -> Draft:
    """Set the fields in `changes` (result and CHANGEABLE) in one UpdateItem; the draft after it."""
    actions = field_updates.child_actions(DraftModel, changes, CHANGEABLE, _result_key(draft_id), "a draft")
    item = field_updates.update(DraftModel, draft_id, actions, returning="new", missing=NOT_FOUND)
    return _to_draft(item)


def delete(draft_id: int) -> None:
    DraftModel(draft_id).delete()


def delete_many(drafts: Iterable[Draft]) -> None:
    with DraftModel.batch_write() as batch:
        for draft in drafts:
            batch.delete(DraftModel(draft.id))


def delete_for_project(project_id: int) -> int:
    """Delete every draft of the project; returns how many."""
    found = [int(item.id) for item in DraftModel.project_index.query(project_id)]
    with DraftModel.batch_write() as batch:
        for draft_id in found:
            batch.delete(DraftModel(draft_id))
    return len(found)
