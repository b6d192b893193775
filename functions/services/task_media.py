"""A task's `s3://` media, for browsers and ML backends: `/tasks/{id}/presign/?fileuri=` (Label Studio's
`get_local_path` for `s3://` URIs, ls-protocol.md 2.3), and the task data served with those links.

The URI arrives URL-safe base64 encoded. It is presigned only if the caller may see the task, the URI is
one of the task's own data values (so a member cannot presign any object of a bucket), and its bucket is
the files bucket or the bucket of one of the project's source storages that presigns (with that storage's
credentials and `presign_ttl`). The answer is a 303 to the presigned S3 URL, as Label Studio's.

Served to a browser (`GET /api/tasks/{id}`, `/next`), such URIs in the task data are replaced by that
path, as Label Studio does, so the annotator's browser loads the media without credentials of its own.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Iterator

from functions.domain.errors import PermissionDenied, ValidationFailed
from functions.domain.records import Task, User
from functions.domain.storage import SOURCE, Storage
from functions.services import access
from functions.settings import get_settings
from functions.store import storages as storage_store
from functions.store.aws_clients import client

PRESIGN_SECONDS = 3600


def decode_fileuri(raw: str | None) -> str:
    if not raw:
        raise ValidationFailed.field("fileuri", "This query parameter is required.")
    text = raw.strip()
    try:
        uri = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        raise ValidationFailed.field("fileuri", "Must be the URL-safe base64 of a storage URI.") from None
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValidationFailed.field("fileuri", "Only s3://bucket/key URIs can be presigned.")
    return uri


def _strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _presigning_storages(project_id: int) -> dict[str, Storage | None]:
    """Bucket -> the source storage that presigns its objects (None: the files bucket, our own)."""
    found: dict[str, Storage | None] = {get_settings().files_bucket: None}
    for storage in storage_store.list_for_project(project_id, SOURCE):
        if storage.presign:
            found.setdefault(storage.bucket, storage)
    return found


def presigned_url(user: User, task_id: int, fileuri: str | None) -> str:
    task, project = access.task_for(user, task_id)
    uri = decode_fileuri(fileuri)
    bucket, _, key = uri[5:].partition("/")
    if uri not in set(_strings(task.data)):
        raise PermissionDenied("This file is not part of the task's data.")
    storages = _presigning_storages(project.id)
    if bucket not in storages:
        raise PermissionDenied(f"Bucket {bucket} is not a storage of this project.")
    storage = storages[bucket]
    s3, seconds = (
        (client("s3"), PRESIGN_SECONDS)
        if storage is None
        else (storage_store.s3_for(storage), storage.presign_ttl * 60)
    )
    return s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds)


def for_browser(task: Task) -> Task:
    """The task with its presignable `s3://` URIs replaced by its presign path (the stored task is
    unchanged). Costs nothing for a task without such a URI."""
    if "s3://" not in json.dumps(task.data):
        return task
    buckets = _presigning_storages(task.project_id)

    def link(value):
        if isinstance(value, str) and value.startswith("s3://") and value[5:].partition("/")[0] in buckets:
            encoded = base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")
            return f"/tasks/{task.id}/presign/?fileuri={encoded}"
        if isinstance(value, dict):
            return {k: link(v) for k, v in value.items()}
        if isinstance(value, list):
            return [link(v) for v in value]
        return value

    return dataclasses.replace(task, data=link(task.data))
