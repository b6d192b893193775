"""The label stream's history, on plain data: the tasks the stream gave a user, oldest first, each with
the annotation the user gave it (Label Studio's `projects/functions/stream_history.py`; entries are
`{"taskId", "annotationId"}`, as its `/api/projects/{id}/label-stream-history` answers them).
"""

from __future__ import annotations

# Label Studio's LABEL_STREAM_HISTORY_LIMIT.
LIMIT = 100


def with_task(entries: list[dict], task_id: int, limit: int = LIMIT) -> list[dict]:
    """The history once the stream handed out `task_id`: appended unless already there, and only the
    latest `limit` entries kept."""
    if any(entry["taskId"] == task_id for entry in entries):
        return entries
    return [*entries, {"taskId": task_id, "annotationId": None}][-limit:]


def with_annotation(entries: list[dict], task_id: int, annotation_id: int) -> list[dict]:
    """The history once the user answered `task_id` with `annotation_id` (entries of other tasks as
    they were; a task the stream did not hand out is not added)."""
    return [
        {**entry, "annotationId": annotation_id} if entry["taskId"] == task_id else entry for entry in entries
    ]


def existing(entries: list[dict], task_ids: set[int], annotation_ids: set[int]) -> list[dict]:
    """The entries whose task still exists; an annotation deleted since is forgotten (as Label Studio
    answers the history)."""
    return [
        {**entry, "annotationId": entry["annotationId"] if entry["annotationId"] in annotation_ids else None}
        for entry in entries
        if entry["taskId"] in task_ids
    ]
