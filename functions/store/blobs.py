"""JSON documents too large for a DynamoDB item (400 KB) live in S3; the item keeps the object's key."""

from __future__ import annotations

import json

from functions.settings import get_settings
from functions.store.aws_clients import client


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def pack(value, key: str) -> tuple[str | None, str | None]:
    """Return (inline JSON, None) for a small value, or (None, S3 key) after writing a large one."""
    text = dumps(value)
    settings = get_settings()
    if len(text.encode()) <= settings.offload_bytes:
        return text, None
    client("s3").put_object(
        Bucket=settings.files_bucket, Key=key, Body=text.encode(), ContentType="application/json"
    )
    return None, key


def unpack(inline: str | None, ref: str | None, default=None):
    if inline is not None:
        return json.loads(inline)
    if ref is not None:
        body = client("s3").get_object(Bucket=get_settings().files_bucket, Key=ref)["Body"].read()
        return json.loads(body)
    return default


def delete(ref: str | None) -> None:
    if ref:
        client("s3").delete_object(Bucket=get_settings().files_bucket, Key=ref)


def put_bytes(key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
    client("s3").put_object(Bucket=get_settings().files_bucket, Key=key, Body=body, ContentType=content_type)


def get_bytes(key: str) -> bytes:
    return client("s3").get_object(Bucket=get_settings().files_bucket, Key=key)["Body"].read()


def upload(key: str, body, content_type: str) -> None:
    """Stream a file object to S3 (multipart above the transfer threshold; never all in memory)."""
    client("s3").upload_fileobj(
        body, get_settings().files_bucket, key, ExtraArgs={"ContentType": content_type}
    )


def iter_lines(key: str):
    """The object's lines, read as they arrive."""
    body = client("s3").get_object(Bucket=get_settings().files_bucket, Key=key)["Body"]
    yield from body.iter_lines()


def uploads_prefix(project_id: int) -> str:
    """Where a project's own media lives in the files bucket: the only part of it a task may link to
    (the rest — exports, offloaded task data and results, imports, training sets — is internal)."""
    return f"uploads/{project_id}/"


def presigned_view(key: str, seconds: int = 3600) -> str:
    """A URL that reads the files bucket's object `key` for `seconds` (no download disposition)."""
    return client("s3").generate_presigned_url(
        "get_object", ExpiresIn=seconds, Params={"Bucket": get_settings().files_bucket, "Key": key}
    )


def presigned_get(key: str, filename: str, seconds: int = 3600) -> str:
    return client("s3").generate_presigned_url(
        "get_object",
        ExpiresIn=seconds,
        Params={
            "Bucket": get_settings().files_bucket,
            "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
        },
    )


def delete_prefix(prefix: str) -> int:
    """Delete every object under `prefix` (a page of up to 1,000 keys per call). Returns how many."""
    s3, bucket, deleted = client("s3"), get_settings().files_bucket, 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    return deleted
