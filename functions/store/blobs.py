"""The files bucket: JSON documents too large for a DynamoDB item (400 KB; the item keeps the object's key),
project media, export snapshots, import bodies, training sets.

In AWS (and on the emulator) it is an S3 bucket; with the sqlite store engine it is the directory
`<data_dir>/files` (functions/store/local_files.py), whose presigned URLs the `/files/` route serves.
"""

from __future__ import annotations

import json
from pathlib import Path

from botocore.exceptions import ClientError

from functions.domain.errors import NotFound
from functions.settings import get_settings
from functions.store import local_files
from functions.store.aws_clients import client


def _local() -> Path | None:
    """The files directory when this installation keeps its files on disk, else None (S3)."""
    settings = get_settings()
    if settings.store_engine != "sqlite":
        return None
    if not settings.data_dir:
        raise RuntimeError("the sqlite store engine needs a data directory (LABELSTACK_DATA_DIR)")
    return Path(settings.data_dir) / "files"


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def pack(value, key: str) -> tuple[str | None, str | None]:
    """Return (inline JSON, None) for a small value, or (None, key) after writing a large one."""
    text = dumps(value)
    if len(text.encode()) <= get_settings().offload_bytes:
        return text, None
    put_bytes(key, text.encode(), "application/json")
    return None, key


def unpack(inline: str | None, ref: str | None, default=None):
    if inline is not None:
        return json.loads(inline)
    if ref is not None:
        return json.loads(get_bytes(ref))
    return default


def delete(ref: str | None) -> None:
    if not ref:
        return
    if (root := _local()) is not None:
        local_files.delete(root, ref)
    else:
        client("s3").delete_object(Bucket=get_settings().files_bucket, Key=ref)


def put_bytes(key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
    if (root := _local()) is not None:
        local_files.put_bytes(root, key, body)
    else:
        client("s3").put_object(
            Bucket=get_settings().files_bucket, Key=key, Body=body, ContentType=content_type
        )


def get_bytes(key: str) -> bytes:
    """The object's bytes. A missing one is a failure (botocore's NoSuchKey, or FileNotFoundError)."""
    if (root := _local()) is not None:
        return local_files.get_bytes(root, key)
    return client("s3").get_object(Bucket=get_settings().files_bucket, Key=key)["Body"].read()


def upload(key: str, body, content_type: str) -> None:
    """Stream a file object in (to S3: multipart above the transfer threshold; never all in memory)."""
    if (root := _local()) is not None:
        local_files.upload(root, key, body)
    else:
        client("s3").upload_fileobj(
            body, get_settings().files_bucket, key, ExtraArgs={"ContentType": content_type}
        )


def iter_lines(key: str):
    """The object's lines, read as they arrive."""
    if (root := _local()) is not None:
        yield from local_files.iter_lines(root, key)
        return
    body = client("s3").get_object(Bucket=get_settings().files_bucket, Key=key)["Body"]
    yield from body.iter_lines()


def uploads_prefix(project_id: int) -> str:
    """Where a project's own media lives in the files bucket: the only part of it a task may link to
    (the rest — exports, offloaded task data and results, imports, training sets — is internal)."""
    return f"uploads/{project_id}/"


def presigned_view(
    key: str, seconds: int = 3600, content_type: str | None = None, disposition: str | None = None
) -> str:
    """A URL that reads the files bucket's object `key` for `seconds`. On S3, `content_type` and
    `disposition` replace the object's own headers in the answer (the files directory's URLs choose
    them by the key's extension)."""
    if _local() is not None:
        return local_files.presigned_url(get_settings().jwt_secret, key, seconds)
    params = {"Bucket": get_settings().files_bucket, "Key": key}
    if content_type:
        params["ResponseContentType"] = content_type
    if disposition:
        params["ResponseContentDisposition"] = disposition
    return client("s3").generate_presigned_url("get_object", ExpiresIn=seconds, Params=params)


def for_browser(key: str, seconds: int, content_type: str, disposition: str | None = None) -> Path | str:
    """How a server hands the object `key` to a browser: the file itself (its Path) when the files
    bucket is a directory (the sqlite engine), else a presigned URL that answers with `content_type`
    and `disposition` (checked first with one HeadObject). NotFound when there is no such object,
    or the key could not name one."""
    if (root := _local()) is not None:
        try:
            path = local_files.path_for(root, key)
        except ValueError:
            raise NotFound("No such file.") from None
        if not path.is_file():
            raise NotFound("No such file.")
        return path
    try:
        client("s3").head_object(Bucket=get_settings().files_bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise NotFound("No such file.") from None
        raise
    return presigned_view(key, seconds, content_type, disposition)


def presigned_get(key: str, filename: str, seconds: int = 3600) -> str:
    if _local() is not None:
        return local_files.presigned_url(get_settings().jwt_secret, key, seconds, filename)
    return client("s3").generate_presigned_url(
        "get_object",
        ExpiresIn=seconds,
        Params={
            "Bucket": get_settings().files_bucket,
            "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
        },
    )


def open_signed(
    key: str, expires: str | None, signature: str | None, download: str | None
) -> local_files.SignedFile:
    """The file a presigned URL of the files directory names, once its signature checks out
    (PermissionDenied if not). Only the sqlite engine has such URLs: elsewhere there is nothing here."""
    root = _local()
    if root is None:
        raise NotFound("No such file.")
    return local_files.check_signed(root, get_settings().jwt_secret, key, expires, signature, download)


def delete_prefix(prefix: str) -> int:
    """Delete every object under `prefix` (a page of up to 1,000 keys per call). Returns how many."""
    if (root := _local()) is not None:
        return local_files.delete_prefix(root, prefix)
    s3, bucket, deleted = client("s3"), get_settings().files_bucket, 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    return deleted
