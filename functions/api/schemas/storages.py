"""S3 cloud storages of a project: source storages (`/api/storages/s3`) that import objects as tasks and
target storages (`/api/storages/export/s3`) that receive one object per annotation."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from functions.api.schemas.common import BodyBool, BodyInt, RequestBody, ResponseBody, Timestamp, optional


class _S3Fields(RequestBody):
    title: str | None = None
    description: str | None = None
    bucket: str = optional("The bucket's name.")
    prefix: str | None = Field(None, description="Only keys under this prefix.")
    regex_filter: str | None = Field(None, description="Only keys that match it (from their start).")
    use_blob_urls: BodyBool = optional(
        "Each object is a task holding its s3:// URL; otherwise objects are task files."
    )
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = Field(None, description="Write-only: never shown again.")
    aws_session_token: str | None = Field(None, description="Write-only: never shown again.")
    aws_sse_kms_key_id: str | None = None
    region_name: str | None = None
    s3_endpoint: str | None = Field(None, description="An S3-compatible endpoint URL (needs access keys).")
    role_arn: str | None = Field(
        None, description="An IAM role to assume instead of keys; it may require the storage's external_id."
    )


class PatchedS3ImportStorageRequest(_S3Fields):
    presign: BodyBool = optional("Serve the objects to browsers through presigned URLs.")
    presign_ttl: BodyInt = optional("Minutes a presigned URL lasts, 1 to 10080.")
    recursive_scan: BodyBool = optional("Also import keys in sub-folders of the prefix.")


class S3ImportStorageRequest(PatchedS3ImportStorageRequest):
    project: BodyInt


class PatchedS3ExportStorageRequest(_S3Fields):
    can_delete_objects: BodyBool = optional("Delete an annotation's object with it.")


class S3ExportStorageRequest(PatchedS3ExportStorageRequest):
    project: BodyInt


class S3ImportStorageCheck(PatchedS3ImportStorageRequest):
    """The settings to check, of a new storage (with `project`) or, with `id`, of a saved one changed by
    these fields (its secrets need not be sent again)."""

    id: BodyInt | None = None
    project: BodyInt | None = None


class S3ExportStorageCheck(PatchedS3ExportStorageRequest):
    """As S3ImportStorageCheck, for a target storage."""

    id: BodyInt | None = None
    project: BodyInt | None = None


class _S3Storage(ResponseBody):
    id: int
    type: str
    synchronizable: bool
    last_sync: Timestamp | None
    last_sync_count: int | None
    last_sync_job: Any
    status: str = Field(
        description="initialized, queued, in_progress, failed, completed or completed_with_errors."
    )
    traceback: str | None = Field(description="Why the last sync failed or what it could not import.")
    meta: dict[str, Any]
    title: str
    description: str | None
    created_at: Timestamp
    bucket: str
    prefix: str
    regex_filter: str | None
    use_blob_urls: bool
    aws_sse_kms_key_id: str | None
    region_name: str | None
    s3_endpoint: str | None
    aws_access_key_id: str | None
    role_arn: str | None
    external_id: str | None = Field(description="For a role's trust policy: unique to this storage.")
    aws_secret_access_key_is_set: bool
    project: int


class S3ImportStorage(_S3Storage):
    presign: bool
    presign_ttl: int
    recursive_scan: bool


class S3ExportStorage(_S3Storage):
    can_delete_objects: bool


class StorageType(ResponseBody):
    name: str
    title: str
