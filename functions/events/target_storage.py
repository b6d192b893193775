"""Target storages follow the annotations stream: each created or updated annotation is written as one
object, a deleted one removed (where the storage allows deletes). A write that fails raises, so the
stream retries the record until the bucket answers again (then the dead-letter queue)."""

from __future__ import annotations

from functions.events.annotation_changes import AnnotationChange
from functions.services import storages


def on_annotation_change(change: AnnotationChange) -> None:
    if change.action == "deleted":
        storages.remove_annotation(change.project_id, change.annotation_id)
    else:
        # The stored annotation, not the record's image: a retried record writes what is there now.
        storages.write_annotation(change.project_id, change.annotation_id)
