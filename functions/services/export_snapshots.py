"""Export snapshots (`/api/projects/{id}/exports`): built by a background job into S3, converted to other
formats on request, downloaded through presigned URLs — so a large project's export never has to fit in
one API response (Lambda answers at most 6 MB).

A snapshot is stored as JSON Lines (one task per line, read back as a stream for conversions) next to the
Label Studio JSON file users download.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator

from functions.domain.errors import ValidationFailed
from functions.domain.export_formats import available_formats, export_file_for, write_export
from functions.domain.json_limits import check_size
from functions.domain.records import User, utcnow
from functions.services import access, jobs
from functions.services.exporting import SPOOL_BYTES, export_tasks
from functions.services.projects import config_of
from functions.store import blobs
from functions.store import export_snapshots as snapshot_store
from functions.store import projects as project_store
from functions.store.export_snapshots import Snapshot, key_for

MAX_TITLE = 2048
OPTIONS_MAX_BYTES = 64 * 1024


def create(user: User, project_id: int, fields: dict) -> Snapshot:
    project = access.project_for(user, project_id)
    title = fields.get("title") or ""
    if not isinstance(title, str) or len(title) > MAX_TITLE:
        raise ValidationFailed.field("title", f"Must be a string of at most {MAX_TITLE} characters.")
    options = {}
    for name in ("task_filter_options", "annotation_filter_options", "serialization_options"):
        value = fields.get(name)
        if value is not None and not isinstance(value, dict):
            raise ValidationFailed.field(name, "Expected a JSON object.")
        check_size(value, name, OPTIONS_MAX_BYTES)  # kept in the snapshot's item
        options[name] = value
    snapshot = snapshot_store.create(project.id, user.id, title, options)
    jobs.submit("build_export_snapshot", {"project_id": project.id, "snapshot_id": snapshot.id})
    return snapshot


def get(user: User, project_id: int, snapshot_id: int) -> Snapshot:
    access.project_for(user, project_id)
    return snapshot_store.get(project_id, snapshot_id)


def list_snapshots(user: User, project_id: int) -> list[Snapshot]:
    access.project_for(user, project_id)
    return snapshot_store.list_for(project_id)


def delete(user: User, project_id: int, snapshot_id: int) -> None:
    access.project_for(user, project_id, manage=True)
    snapshot_store.delete(snapshot_store.get(project_id, snapshot_id))


def convert(user: User, project_id: int, snapshot_id: int, export_type) -> Snapshot:
    project = access.project_for(user, project_id)
    snapshot = snapshot_store.get(project_id, snapshot_id)
    if snapshot.status != "completed":
        raise ValidationFailed.field(
            "id", f"The snapshot is {snapshot.status}; convert it once it is completed."
        )
    name = export_type.upper() if isinstance(export_type, str) else ""
    allowed = {f["name"] for f in available_formats(config_of(project)) if not f.get("disabled")}
    if name not in allowed or name == "JSON":
        raise ValidationFailed.field("export_type", f"Cannot convert to {export_type!r} for this project.")
    snapshot_store.set_converted(snapshot.id, name, "in_progress")
    jobs.submit(
        "convert_export_snapshot", {"project_id": project_id, "snapshot_id": snapshot.id, "export_type": name}
    )
    snapshot.converted[name] = "in_progress"
    return snapshot


def download_url(user: User, project_id: int, snapshot_id: int, export_type: str | None) -> str:
    snapshot = get(user, project_id, snapshot_id)
    name = (export_type or "JSON").upper()
    ready = snapshot.status == "completed" if name == "JSON" else snapshot.converted.get(name) == "completed"
    if not ready:
        raise ValidationFailed.field(
            "exportType",
            f"No {name} file for this snapshot yet (snapshot {snapshot.status}; convert it first).",
        )
    extension = export_file_for(name).extension
    return blobs.presigned_get(
        key_for(snapshot, extension, name),
        f"project-{project_id}-at-{snapshot.created_at:%Y-%m-%d-%H-%M}.{extension}",
    )


# --- jobs -------------------------------------------------------------------------------------------


def build_snapshot(project_id: int, snapshot_id: int) -> int:
    """Job: write the snapshot's tasks to S3 as JSON Lines and as Label Studio JSON. Returns tasks."""
    snapshot = snapshot_store.get(project_id, snapshot_id)
    snapshot.status = "in_progress"
    snapshot_store.save(snapshot)
    try:
        task_options = snapshot.options.get("task_filter_options") or {}
        serialization = snapshot.options.get("serialization_options") or {}
        tasks = export_tasks(
            project_id,
            all_tasks=not task_options.get("only_with_annotations"),
            majority=bool(serialization.get("majority_vote")),
        )
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as lines:
            for task in tasks():
                lines.write(json.dumps(task, ensure_ascii=False).encode() + b"\n")
                snapshot.task_number += 1
            lines.seek(0)
            blobs.upload(key_for(snapshot, "jsonl", "tasks"), lines, "application/x-ndjson")
        config = config_of(project_store.get(project_id))
        snapshot.md5 = _write_and_upload(snapshot, "JSON", config)
        snapshot.status = "completed"
    except Exception as exc:
        snapshot.status, snapshot.error = "failed", str(exc)[:1000]
        raise
    finally:
        snapshot.finished_at = utcnow()
        snapshot_store.save(snapshot)
    return snapshot.task_number


def convert_snapshot(project_id: int, snapshot_id: int, export_type: str) -> None:
    """Job: convert a completed snapshot into `export_type`, streaming its tasks back from S3."""
    snapshot = snapshot_store.get(project_id, snapshot_id)
    try:
        _write_and_upload(snapshot, export_type, config_of(project_store.get(project_id)))
    except Exception:
        snapshot_store.set_converted(snapshot.id, export_type, "failed")
        raise
    snapshot_store.set_converted(snapshot.id, export_type, "completed")


def _write_and_upload(snapshot: Snapshot, export_type: str, config) -> str:
    def stored_tasks() -> Iterator[dict]:
        for line in blobs.iter_lines(key_for(snapshot, "jsonl", "tasks")):
            if line:
                yield json.loads(line)

    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as out:
        written = write_export(export_type, stored_tasks, config, out)
        out.seek(0)
        digest = hashlib.md5(usedforsecurity=False)
        while chunk := out.read(1024 * 1024):
            digest.update(chunk)
        out.seek(0)
        blobs.upload(key_for(snapshot, written.extension, export_type), out, written.content_type)
    return digest.hexdigest()
