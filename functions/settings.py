"""One settings object, read from the environment.

Locally `labelstack dev` sets `LABELSTACK_AWS_ENDPOINT_URL` to the embedded emulator; in AWS it is unset and
boto3 talks to the real services. Table and bucket names come from the CDK stack through the same variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

VERSION = "0.1.0"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:  # a typo in a deployment setting should fail loudly at start-up
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    region: str
    table_prefix: str
    aws_endpoint_url: str | None
    files_bucket: str
    jwt_secret: str | None
    jwt_secret_arn: str | None
    # Bounds on what a client may send us.
    max_request_bytes: int
    max_tasks_per_import: int
    # Imports above this many tasks run as a background job the client polls.
    sync_import_limit: int
    # DynamoDB items are limited to 400 KB; JSON over this many bytes lives in S3 instead.
    offload_bytes: int
    access_token_seconds: int
    refresh_token_days: int
    # How long a task handed out by /next stays reserved for its annotator (Label Studio: TASK_LOCK_TTL).
    task_lock_seconds: int
    # Name of the Lambda that runs background jobs; unset means "run them in this process" (local stack).
    jobs_function_name: str | None

    def table_name(self, short: str) -> str:
        return f"{self.table_prefix}{short}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        table_prefix=os.environ.get("LABELSTACK_TABLE_PREFIX", "labelstack-"),
        aws_endpoint_url=os.environ.get("LABELSTACK_AWS_ENDPOINT_URL") or None,
        files_bucket=os.environ.get("LABELSTACK_FILES_BUCKET", "labelstack-files"),
        jwt_secret=os.environ.get("LABELSTACK_JWT_SECRET") or None,
        jwt_secret_arn=os.environ.get("LABELSTACK_JWT_SECRET_ARN") or None,
        max_request_bytes=_int("LABELSTACK_MAX_REQUEST_BYTES", 100 * 1024 * 1024),
        max_tasks_per_import=_int("LABELSTACK_MAX_TASKS_PER_IMPORT", 1_000_000),
        sync_import_limit=_int("LABELSTACK_SYNC_IMPORT_LIMIT", 10_000),
        offload_bytes=_int("LABELSTACK_OFFLOAD_BYTES", 300_000),
        access_token_seconds=_int("LABELSTACK_ACCESS_TOKEN_SECONDS", 300),
        refresh_token_days=_int("LABELSTACK_REFRESH_TOKEN_DAYS", 365),
        task_lock_seconds=_int("LABELSTACK_TASK_LOCK_SECONDS", 86_400),
        jobs_function_name=os.environ.get("LABELSTACK_JOBS_FUNCTION") or None,
    )
