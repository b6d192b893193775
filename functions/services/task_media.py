"""A task's `s3://` media, for browsers and ML backends: `/tasks/{id}/presign/?fileuri=` (Label Studio's
`get_local_path` for `s3://` URIs, ls-protocol.md 2.3), and the task data served with those links.

The URI arrives URL-safe base64 encoded. It is presigned only if the caller may see the task, the URI is
one of the task's own data values, and the object is media of the task's own project: in the files
bucket, only under the project's uploads prefix (`uploads/<project id>/`); elsewhere, in the bucket and
under the prefix of one of the project's source storages that presigns (with that storage's credentials
and `presign_ttl`). Task data is written by managers, so being in it proves nothing about the object:
everything else of the files bucket (exports, offloaded task data and results, imports, training sets)
and other projects' storages are refused. The answer is a 303 to the presigned S3 URL, as Label Studio's.

Served to a browser (`GET /api/tasks/{id}`, `/next`), such URIs in the task data are replaced by that
path, as Label Studio does, so the annotator's browser loads the media without credentials of its own.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Callable, Iterator
from functools import partial

from functions.domain.errors import PermissionDenied, ValidationFailed
from functions.domain.records import Task, User
from functions.domain.storage import SOURCE, list_prefix
from functions.services import access
from functions.settings import get_settings
from functions.store import blobs, s3_buckets
from functions.store import storages as storage_store

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


def _signers(project_id: int) -> Callable[[str], Callable[[], str] | None]:
    """uri -> what presigns it, or None if it is not media of the project."""
    files_bucket = get_settings().files_bucket
    uploads = blobs.uploads_prefix(project_id)
    storages = [s for s in storage_store.list_for_project(project_id, SOURCE) if s.presign]

    def signer(uri: str) -> Callable[[], str] | None:
        if not uri.startswith("s3://"):
            return None
        bucket, _, key = uri[5:].partition("/")
        if not key or any(part in (".", "..") for part in key.split("/")):
            return None  # a browser would resolve the dots into another key than the one checked
        if bucket == files_bucket:
            if key.startswith(uploads) and key != uploads:
                return partial(blobs.presigned_view, key, PRESIGN_SECONDS)
            return None
        for storage in storages:
            if storage.bucket == bucket and key.startswith(list_prefix(storage)):
                return partial(s3_buckets.presigned_get, storage, key, storage.presign_ttl * 60)
        return None

    return signer


def presigned_url(user: User, task_id: int, fileuri: str | None) -> str:
    task, project = access.task_for(user, task_id)
    uri = decode_fileuri(fileuri)
    if uri not in set(_strings(task.data)):
        raise PermissionDenied("This file is not part of the task's data.")
    sign = _signers(project.id)(uri)
    if sign is None:
        raise PermissionDenied(f"{uri} is not media of this project's uploads or source storages.")
    try:
        return sign()
    except s3_buckets.BucketUnavailable as exc:
        raise PermissionDenied(f"The storage cannot presign this file: {exc}") from None


def for_browser(task: Task) -> Task:
    """The task with its presignable `s3://` URIs replaced by its presign path (the stored task is
    unchanged). Costs nothing for a task without such a URI."""
    if "s3://" not in json.dumps(task.data):
        return task
    signer = _signers(task.project_id)

    def link(value):
        if isinstance(value, str) and signer(value) is not None:
            encoded = base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")
            return f"/tasks/{task.id}/presign/?fileuri={encoded}"
        if isinstance(value, dict):
            return {k: link(v) for k, v in value.items()}
        if isinstance(value, list):
            return [link(v) for v in value]
        return value

    return dataclasses.replace(task, data=link(task.data))
