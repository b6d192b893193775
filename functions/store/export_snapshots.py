"""Export snapshot records (the files themselves are in S3, under `key_for`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from pynamodb.expressions.operand import Path

from functions.domain.errors import NotFound
from functions.domain.records import utcnow
from functions.store import blobs, ids
from functions.store.models import ExportSnapshotModel
from functions.store.tasks import plain_map


@dataclass
class Snapshot:
    id: int
    project_id: int
    created_by: int
    title: str = ""
    status: str = "created"
    md5: str | None = None
    task_number: int = 0
    error: str | None = None
    options: dict = field(default_factory=dict)
    converted: dict[str, str] = field(default_factory=dict)  # export type -> created | completed | failed
    created_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None


def key_for(snapshot: Snapshot, extension: str, export_type: str = "JSON") -> str:
    return f"exports/{snapshot.project_id}/{snapshot.id}/{export_type.lower()}.{extension}"  # see delete()


def _to_snapshot(item: ExportSnapshotModel) -> Snapshot:
    return Snapshot(
        id=int(item.id),
        project_id=int(item.project_id),
        created_by=int(item.created_by),
        title=item.title,
        status=item.status,
        md5=item.md5,
        task_number=int(item.task_number or 0),
        error=item.error,
        options=json.loads(item.options or "{}"),
        converted=plain_map(item.converted),
        created_at=item.created_at,
        finished_at=item.finished_at,
    )


def create(project_id: int, created_by: int, title: str, options: dict) -> Snapshot:
    snapshot = Snapshot(
        id=ids.reserve("export"), project_id=project_id, created_by=created_by, title=title, options=options
    )
    save(snapshot)
    return snapshot


def save(s: Snapshot) -> None:
    ExportSnapshotModel(
        s.id,
        project_id=s.project_id,
        created_by=s.created_by,
        title=s.title,
        status=s.status,
        md5=s.md5,
        task_number=s.task_number,
        error=s.error,
        options=json.dumps(s.options),
        converted=dict(s.converted),
        created_at=s.created_at,
        finished_at=s.finished_at,
    ).save()


def set_converted(snapshot_id: int, export_type: str, status: str) -> None:
    """One conversion's status, without touching the others' (conversions run concurrently)."""
    ExportSnapshotModel(snapshot_id).update(
        actions=[Path(["converted", export_type]).set(status)], condition=ExportSnapshotModel.id.exists()
    )


def get(project_id: int, snapshot_id: int) -> Snapshot:
    try:
        item = ExportSnapshotModel.get(snapshot_id)
    except ExportSnapshotModel.DoesNotExist:
        item = None
    if item is None or int(item.project_id) != project_id:
        raise NotFound("No Export matches the given query.")
    return _to_snapshot(item)


def list_for(project_id: int) -> list[Snapshot]:
    return [
        _to_snapshot(i) for i in ExportSnapshotModel.project_index.query(project_id, scan_index_forward=False)
    ]


def delete(snapshot: Snapshot) -> None:
    """The record and its files in S3."""
    ExportSnapshotModel(snapshot.id).delete()
    blobs.delete_prefix(f"exports/{snapshot.project_id}/{snapshot.id}/")
