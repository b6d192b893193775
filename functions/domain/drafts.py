"""Annotation drafts: what an annotator has labeled so far on a task, saved while they work and given back
with the task, so a reload or a crash loses nothing (Label Studio's `AnnotationDraft`,
`tasks/models.py`; its JSON is `AnnotationDraftSerializer`'s, every field of the model).

A draft belongs to one user and one task; `annotation` names the submitted annotation it changes, when it
is an edit of one. Submitting the annotation with `draft_id` removes the draft.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from functions.domain.ls_json import iso, time_ago
from functions.domain.records import User, utcnow


@dataclass
class Draft:
    id: int
    task_id: int
    project_id: int
    user_id: int
    result: list = field(default_factory=list)
    lead_time: float | None = None
    was_postponed: bool = False
    annotation_id: int | None = None
    import_id: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)


def draft_json(draft: Draft, author: User | None) -> dict:
    return {
        "id": draft.id,
        # Label Studio's serializer gives the author as text: the user's string, their email.
        "user": author.email if author else str(draft.user_id),
        "created_username": f" {author.email}, {author.id}" if author else "",
        "created_ago": time_ago(draft.created_at),
        "result": draft.result,
        "lead_time": draft.lead_time,
        "was_postponed": draft.was_postponed,
        "import_id": draft.import_id,
        "created_at": iso(draft.created_at),
        "updated_at": iso(draft.updated_at),
        "task": draft.task_id,
        "annotation": draft.annotation_id,
    }
