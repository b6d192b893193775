"""Webhooks follow the annotations stream: ANNOTATION_CREATED, ANNOTATION_UPDATED and ANNOTATIONS_DELETED
are queued for every webhook that wants them. The delivery's id comes from the change itself, so a record
the stream retries queues nothing twice."""

from __future__ import annotations

from functions.events.annotation_changes import AnnotationChange
from functions.services import webhooks


def on_annotation_change(change: AnnotationChange) -> None:
    item = change.new or change.old or {}
    changed_at = f"{item.get('updated_at', '')}:{change.annotation_id}:v{int(item.get('version', 0) or 0)}"
    webhooks.publish_annotation_change(
        change.action, change.project_id, change.annotation_id, change.task_id, changed_at
    )
