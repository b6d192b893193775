"""The files bucket as tests see it, on either store engine: S3 (moto) under `dynamodb`, the data
directory's `files/` under `sqlite`. Tests read what the product wrote through these, not through the
engine they happen to run on."""

from __future__ import annotations

from pathlib import Path

import requests

from functions.settings import get_settings
from functions.store import blobs
from functions.store.aws_clients import client


def keys_under(prefix: str) -> list[str]:
    settings = get_settings()
    if settings.store_engine == "sqlite":
        root = Path(settings.data_dir or ".") / "files"
        found = (p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        return sorted(k for k in found if k.startswith(prefix))
    listed = client("s3").list_objects_v2(Bucket=settings.files_bucket, Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def put(key: str, body: bytes) -> None:
    blobs.put_bytes(key, body)


def fetch(api, location: str) -> bytes:
    """What a presigned URL the API answered with serves: S3's (absolute) or the local files route's
    (relative to the API)."""
    if location.startswith("/"):
        response = api.get(location)
        assert response.status_code == 200, response.text
        return response.content
    return requests.get(location, timeout=10).content
