"""`/tasks/{id}/presign/?fileuri=`: how ML backends fetch a task's media (Label Studio's
`get_local_path` for `s3://` URIs, ls-protocol.md 2.3).

The URI arrives URL-safe base64 encoded. It is presigned only if the caller may see the task, the URI is
one of the task's own data values (so a member cannot presign any object of a bucket), and its bucket is
one this installation serves media from (the files bucket for now). The answer is a 303 to the
presigned S3 URL, as Label Studio's.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator

from functions.domain.errors import PermissionDenied, ValidationFailed
from functions.domain.records import User
from functions.services import access
from functions.settings import get_settings
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


def presigned_url(user: User, task_id: int, fileuri: str | None) -> str:
    task, _ = access.task_for(user, task_id)
    uri = decode_fileuri(fileuri)
    bucket, _, key = uri[5:].partition("/")
    if uri not in set(_strings(task.data)):
        raise PermissionDenied("This file is not part of the task's data.")
    if bucket != get_settings().files_bucket:
        raise PermissionDenied(f"Bucket {bucket} is not a storage of this project.")
    return client("s3").generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                               ExpiresIn=PRESIGN_SECONDS)
