"""S3 cloud storages of a project: their record, Label Studio's JSON for them, field checks, and which
object keys a source storage imports (ls-protocol.md section 7).

A *source* storage turns objects of a bucket into tasks (one task per object with its `s3://` URL when
`use_blob_urls`, else the tasks in each JSON/JSONL file); a *target* storage receives one object per
annotation. Credentials (`aws_secret_access_key`, `aws_session_token`) are write-only: they are never in
the JSON, in logs or in error messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from functions.domain.errors import ValidationFailed
from functions.domain.records import utcnow
from functions.domain.user_patterns import PatternRefused, UserPattern, compile_user_pattern

SOURCE, TARGET = "import", "export"
STATUSES = ("initialized", "queued", "in_progress", "failed", "completed", "completed_with_errors")
# Label Studio's /api/storages/types catalogue; labelstack implements S3 only.
STORAGE_TYPES = [{"name": "s3", "title": "AWS S3"}]
TITLE_MAX = 2048
DESCRIPTION_MAX = 10_000
TRACEBACK_MAX = 2_000
# Files a source storage without `use_blob_urls` reads tasks from (Label Studio also reads .parquet).
TASK_FILE_EXTENSIONS = (".json", ".jsonl", ".ndjson")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_ROLE_ARN = re.compile(r"arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@/\-]{1,512}")


@dataclass
class Storage:
    id: int
    project_id: int
    kind: str  # SOURCE | TARGET
    created_by: int
    title: str = ""
    description: str | None = None
    bucket: str = ""
    prefix: str = ""
    regex_filter: str | None = None
    use_blob_urls: bool = False
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None  # write-only
    aws_session_token: str | None = None  # write-only
    aws_sse_kms_key_id: str | None = None
    region_name: str | None = None
    s3_endpoint: str | None = None
    # labelstack: a role to assume instead of keys (Label Studio Enterprise's `s3s` storage has these).
    role_arn: str | None = None
    external_id: str | None = None  # write-only, like a credential
    # source only
    presign: bool = True
    presign_ttl: int = 1  # minutes
    recursive_scan: bool = False
    # target only
    can_delete_objects: bool = False
    # status
    status: str = "initialized"
    last_sync: datetime | None = None
    last_sync_count: int | None = None
    traceback: str | None = None
    meta: dict = field(default_factory=dict)
    created_at: datetime = field(default_factory=utcnow)
    version: int = 0


COMMON = (
    "title",
    "description",
    "bucket",
    "prefix",
    "regex_filter",
    "use_blob_urls",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_sse_kms_key_id",
    "region_name",
    "s3_endpoint",
    "role_arn",
    "external_id",
)
SOURCE_ONLY = ("presign", "presign_ttl", "recursive_scan")
TARGET_ONLY = ("can_delete_objects",)
SECRETS = ("aws_secret_access_key", "aws_session_token", "external_id")
# A change of any of these means the storage points somewhere else: it is validated again.
LOCATION_FIELDS = (
    "bucket",
    "prefix",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "region_name",
    "s3_endpoint",
    "role_arn",
    "external_id",
)


def editable(kind: str) -> tuple[str, ...]:
    return COMMON + (SOURCE_ONLY if kind == SOURCE else TARGET_ONLY)


def storage_json(storage: Storage, iso) -> dict:
    """Label Studio's S3 storage JSON (`ls-samples/storage_s3.json`, `storage_s3_export.json`)."""
    body = {
        "id": storage.id,
        "type": "s3",
        "synchronizable": True,
    }
    if storage.kind == SOURCE:
        body["presign"] = storage.presign
    body.update(
        {
            "last_sync": iso(storage.last_sync),
            "last_sync_count": storage.last_sync_count,
            "last_sync_job": None,
            "status": storage.status,
            "traceback": storage.traceback,
            "meta": storage.meta,
            "title": storage.title,
            "description": storage.description,
            "created_at": iso(storage.created_at),
        }
    )
    if storage.kind == TARGET:
        body["can_delete_objects"] = storage.can_delete_objects
    body.update(
        {
            "bucket": storage.bucket,
            "prefix": storage.prefix,
            "regex_filter": storage.regex_filter,
            "use_blob_urls": storage.use_blob_urls,
            "aws_sse_kms_key_id": storage.aws_sse_kms_key_id,
            "region_name": storage.region_name,
            "s3_endpoint": storage.s3_endpoint,
        }
    )
    if storage.kind == SOURCE:
        body.update(presign_ttl=storage.presign_ttl, recursive_scan=storage.recursive_scan)
    # labelstack's additions: who the storage acts as (the key id is not a secret; the rest are write-only).
    body.update(
        aws_access_key_id=storage.aws_access_key_id,
        role_arn=storage.role_arn,
        aws_secret_access_key_is_set=bool(storage.aws_secret_access_key),
        project=storage.project_id,
    )
    return body


def _optional_string(fields: dict, name: str, limit: int = 2048) -> str | None:
    value = fields[name]
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationFailed.field(name, f"Must be a string of at most {limit} characters.")
    return value


def _bool(fields: dict, name: str) -> bool:
    if not isinstance(fields[name], bool):
        raise ValidationFailed.field(name, "Must be a boolean.")
    return fields[name]


def clean_changes(kind: str, fields: dict) -> dict:
    """The editable fields present in `fields`, checked; raises ValidationFailed naming the field."""
    changes: dict = {}
    for name in editable(kind):
        if name not in fields:
            continue
        if name in ("use_blob_urls", "presign", "recursive_scan", "can_delete_objects"):
            changes[name] = _bool(fields, name)
        elif name == "presign_ttl":
            value = fields[name]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 7 * 24 * 60:
                raise ValidationFailed.field(name, "Must be a whole number of minutes between 1 and 10080.")
            changes[name] = value
        elif name == "bucket":
            value = fields[name]
            if not isinstance(value, str) or not _BUCKET.fullmatch(value):
                raise ValidationFailed.field(
                    name, "Must be an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)."
                )
            changes[name] = value
        elif name == "prefix":
            changes[name] = _optional_string(fields, name, 1024) or ""
        elif name == "regex_filter":
            value = _optional_string(fields, name, 1024)
            if value is not None:
                _key_pattern(value)
            changes[name] = value
        elif name == "region_name":
            value = _optional_string(fields, name, 64)
            if value is not None and not _REGION.fullmatch(value):
                raise ValidationFailed.field(name, "Must be an AWS region such as us-east-1.")
            changes[name] = value
        elif name == "role_arn":
            value = _optional_string(fields, name, 2048)
            if value is not None and not _ROLE_ARN.fullmatch(value):
                raise ValidationFailed.field(
                    name, "Must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
                )
            changes[name] = value
        elif name == "title":
            changes[name] = _optional_string(fields, name, TITLE_MAX) or ""
        elif name == "description":
            changes[name] = _optional_string(fields, name, DESCRIPTION_MAX)
        else:
            changes[name] = _optional_string(fields, name)
    return changes


def check_complete(storage: Storage) -> None:
    if not storage.bucket:
        raise ValidationFailed.field("bucket", "This field is required.")
    if storage.role_arn and storage.aws_access_key_id:
        raise ValidationFailed.field("role_arn", "Give either access keys or a role to assume, not both.")
    if bool(storage.aws_access_key_id) != bool(storage.aws_secret_access_key):
        missing = "aws_secret_access_key" if storage.aws_access_key_id else "aws_access_key_id"
        raise ValidationFailed.field(missing, "Access keys come in pairs: give both or neither.")


def list_prefix(storage: Storage) -> str:
    """What ListObjectsV2 is asked for: Label Studio lists `<prefix rstrip('/')>/`."""
    return f"{storage.prefix.rstrip('/')}/" if storage.prefix else ""


def wants_key(storage: Storage, key: str) -> bool:
    """Whether a source storage imports the object `key` (Label Studio's rules, ls-protocol.md 7)."""
    if key.endswith("/"):
        return False
    start = list_prefix(storage)
    if not key.startswith(start):
        return False
    if not storage.recursive_scan and "/" in key[len(start) :]:
        return False
    return not (storage.regex_filter and not _key_pattern(storage.regex_filter).match(key))


def _key_pattern(regex_filter: str) -> UserPattern:
    # Label Studio matches the filter at the start of the key (`re.match`). A filter saved before
    # patterns were compiled with RE2 may use syntax it refuses: the sync then fails naming the field.
    try:
        return compile_user_pattern(regex_filter)
    except PatternRefused as exc:
        message = str(exc)
        raise ValidationFailed.field("regex_filter", f"{message[0].upper()}{message[1:]}.") from None


def blob_url(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def target_key(storage: Storage, annotation_id: int) -> str:
    """Label Studio Community's key: `<prefix>/<annotation id>`, no extension."""
    prefix = storage.prefix.rstrip("/")
    return f"{prefix}/{annotation_id}" if prefix else str(annotation_id)


def short_traceback(message: str) -> str:
    return message if len(message) <= TRACEBACK_MAX else message[: TRACEBACK_MAX - 1] + "…"
