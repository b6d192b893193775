"""S3 source and target storages of a project (`/api/storages/s3`, `/api/storages/export/s3`).

Source sync: the bucket is listed a page (1,000 keys) at a time; for each page the keys the storage
already imported are looked up (BatchGetItem), the new ones claimed (conditional writes, see
functions/store/storages.py) and imported through the ordinary import (functions/services/importing.py),
so a sync of N new objects costs about N/100 claim transactions + N/25 task writes, and a re-sync of an
unchanged bucket writes nothing. Syncs run as background jobs, one at a time per storage; objects that
arrive later can also come through S3 object-created events (`sync_objects`).

Target storages get one object per annotation, written by the annotations stream
(functions/events/target_storage.py) and, for everything already there, by a target sync.
Managers and admins change storages; members may read them.

A custom `s3_endpoint` is a URL the server calls: it is checked by the SSRF guard at every use (not only
when the storage is saved) and the connection goes to the address checked (functions/store/s3_buckets.py).
A storage's `external_id` (for `role_arn`) is generated here when it is created; a supplied one is ignored.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from functions.domain import fields as field_types
from functions.domain.errors import NotFound, ValidationFailed
from functions.domain.ls_json import annotation_json, task_json
from functions.domain.records import Project, User, utcnow
from functions.domain.storage import (
    LOCATION_FIELDS,
    SOURCE,
    TARGET,
    Storage,
    blob_url,
    check_complete,
    clean_changes,
    list_prefix,
    short_traceback,
    target_key,
    wants_key,
)
from functions.domain.task_import import DATA_UNDEFINED_NAME, read_import_file
from functions.domain.url_guard import BlockedURL, parse_allow_list, parse_target
from functions.ml import guarded_http
from functions.services import access, importing, jobs
from functions.settings import get_settings
from functions.store import annotations as annotation_store
from functions.store import projects as project_store
from functions.store import storages as storage_store
from functions.store import tasks as task_store
from functions.store import users as user_store
from functions.store.s3_buckets import BucketUnavailable, StorageBucket

logger = logging.getLogger(__name__)
_TARGET_THREADS = 8  # Label Studio's export sync uses 8 threads too


# --- create, read, change -------------------------------------------------------------------------------


def storage_for(user: User, storage_id: int, kind: str, *, manage: bool = False) -> tuple[Storage, Project]:
    storage = storage_store.get(storage_id, kind)
    try:
        project = access.project_for(user, storage.project_id, manage=manage)
    except NotFound:
        raise NotFound(storage_store.NOT_FOUND[kind]) from None
    return storage, project


def _project_id(fields: dict) -> int:
    value = fields.get("project")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed.field("project", "This field is required (a project id).")
    return value


def _endpoint_address(storage: Storage) -> str | None:
    """The address of the storage's custom S3 endpoint, resolved now and checked by the same SSRF guard as
    ML backends (every address the name resolves to must pass); None for AWS's own endpoint."""
    if not storage.s3_endpoint:
        return None
    try:
        target = parse_target(storage.s3_endpoint)
        return guarded_http.resolve(target, parse_allow_list(get_settings().allowed_hosts))
    except (BlockedURL, guarded_http.Unreachable) as exc:
        raise ValidationFailed.field("s3_endpoint", str(exc)) from None


def _bucket(storage: Storage) -> StorageBucket:
    """The storage's bucket, connected for this use: its endpoint checked again, the connection pinned to
    the checked address (a name that resolved to an allowed address at create may not any more)."""
    return StorageBucket(storage, _endpoint_address(storage))


def _check_own_buckets(storage: Storage) -> None:
    """Without credentials of its own a storage acts as this deployment, which may read its files bucket:
    every project's data. Refuse that bucket then."""
    if storage.bucket == get_settings().files_bucket and not (storage.aws_access_key_id or storage.role_arn):
        raise ValidationFailed.field(
            "bucket",
            "This is the installation's own files bucket; "
            "a storage cannot use it without its own credentials.",
        )


def check_access(storage: Storage) -> None:
    """Label Studio's validation: with a prefix, a source must list at least one key; without one, the
    bucket must exist (HeadBucket). Raises ValidationFailed naming `bucket`."""
    check_complete(storage)
    _check_own_buckets(storage)
    bucket = _bucket(storage)
    try:
        if storage.prefix:
            found = bucket.has_objects(list_prefix(storage))
            if storage.kind == SOURCE and not found:
                raise ValidationFailed.field(
                    "prefix", f"No objects found in s3://{storage.bucket}/{list_prefix(storage)}."
                )
        else:
            bucket.check_exists()
    except BucketUnavailable as exc:
        raise ValidationFailed.field("bucket", f"Cannot reach s3://{storage.bucket}: {exc}") from None


def _apply(storage: Storage, fields: dict) -> None:
    for name, value in clean_changes(storage.kind, fields).items():
        setattr(storage, name, value)


def validate(user: User, kind: str, fields: dict) -> None:
    """`POST …/validate`: check settings (and reach the bucket) without saving; with `id`, over that
    storage's saved settings (so secrets need not be sent again)."""
    if fields.get("id") is not None:
        storage_id = field_types.integer(fields["id"], "id", minimum=1, maximum=field_types.ID_MAX)
        storage, _ = storage_for(user, storage_id, kind, manage=True)
        _apply(storage, fields)
        check_access(storage)
        return
    access.project_for(user, _project_id(fields), manage=True)
    storage = Storage(id=0, project_id=_project_id(fields), kind=kind, created_by=user.id)
    _apply(storage, fields)
    _check_new(storage)


def _check_new(storage: Storage) -> None:
    """The checks of a storage not saved yet. A role's trust policy can require the storage's
    external_id only once the storage exists (and shows it), so a role is tried later: by `validate`
    with the storage's id, and by each sync."""
    if not storage.role_arn:
        check_access(storage)
        return
    check_complete(storage)
    _check_own_buckets(storage)
    _endpoint_address(storage)


def create(user: User, kind: str, fields: dict) -> Storage:
    project = access.project_for(user, _project_id(fields), manage=True)
    storage = Storage(id=0, project_id=project.id, kind=kind, created_by=user.id)
    _apply(storage, fields)
    _check_new(storage)
    storage.external_id = secrets.token_hex(16)
    storage.id = storage_store.new_id()
    storage_store.create(storage)
    if kind == TARGET:
        # Label Studio syncs a new target once (SYNC_ON_TARGET_STORAGE_CREATION, on by default).
        return queue_sync(user, storage.id, kind)
    return storage


def list_for(user: User, project_id: int, kind: str | None) -> list[Storage]:
    access.project_for(user, project_id)
    return storage_store.list_for_project(project_id, kind)


def get(user: User, storage_id: int, kind: str) -> Storage:
    return storage_for(user, storage_id, kind)[0]


def update(user: User, storage_id: int, kind: str, fields: dict) -> Storage:
    """Write the settings sent, and only those (concurrent edits of others are kept). A new location is
    checked first, with the stored settings the request did not carry: the write is then conditional on
    those being unchanged, so it never saves a location that was not the one checked."""
    storage, _ = storage_for(user, storage_id, kind, manage=True)
    changes = clean_changes(kind, fields)
    edited = dataclasses.replace(storage, **changes)
    unchanged = None
    if any(getattr(edited, name) != getattr(storage, name) for name in LOCATION_FIELDS):
        check_access(edited)
        unchanged = {n: getattr(storage, n) for n in LOCATION_FIELDS if n not in changes}
    return storage_store.update_fields(storage, changes, unchanged=unchanged)


def delete(user: User, storage_id: int, kind: str) -> None:
    storage, _ = storage_for(user, storage_id, kind, manage=True)
    storage_store.delete(storage)


def queue_sync(user: User, storage_id: int, kind: str) -> Storage:
    """`POST …/{id}/sync`: queue a background sync and answer at once (status `queued`); poll the storage."""
    storage, _ = storage_for(user, storage_id, kind, manage=True)
    if storage.status in ("queued", "in_progress"):
        return storage  # one sync at a time; asking again is not an error
    attempts = int(storage.meta.get("attempts", 0)) + 1
    storage_store.set_status(storage, "queued", meta={"attempts": attempts, "time_queued": str(utcnow())})
    jobs.submit("sync_storage", {"storage_id": storage.id, "kind": kind})
    return storage


# --- source sync ----------------------------------------------------------------------------------------


def run_sync(storage_id: int, kind: str) -> dict:
    """The sync job (functions/services/jobs.py): a source imports new objects, a target writes every
    annotation. Records status, counts and timings on the storage; returns the counts."""
    storage = storage_store.get(storage_id, kind)
    if not storage_store.start_sync(storage, storage.meta):
        logger.info("storage %s is already syncing", storage_id)
        return {}
    started = time.monotonic()
    counts: dict = {}
    try:
        counts = _sync_source(storage) if kind == SOURCE else _sync_target(storage)
    except Exception as exc:  # the storage's status is where a background sync reports
        logger.exception("storage %s sync failed", storage_id)
        _finish(
            storage,
            "failed",
            counts,
            started,
            short_traceback(_failure(exc)),
        )
        return counts
    errors = counts.pop("errors", [])
    _finish(
        storage,
        "completed_with_errors" if errors else "completed",
        counts,
        started,
        short_traceback("\n".join(errors)) if errors else None,
    )
    return counts


def _failure(exc: Exception) -> str:
    if isinstance(exc, BucketUnavailable):
        return str(exc)
    if isinstance(exc, ValidationFailed):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.errors.items())
    return f"{type(exc).__name__}: {exc}"


def _finish(storage: Storage, status: str, counts: dict, started: float, traceback: str | None) -> None:
    meta = {
        **storage.meta,
        **{k: v for k, v in counts.items() if k != "created"},
        "time_completed": str(utcnow()),
        "duration": round(time.monotonic() - started, 6),
    }
    storage_store.set_status(
        storage, status, meta=meta, count=counts.get("created", 0), traceback=traceback, finished=True
    )


def _sync_source(storage: Storage) -> dict:
    bucket = _bucket(storage)
    project = project_store.get(storage.project_id)
    owner = user_store.get(storage.created_by)
    counts: dict[str, Any] = {"created": 0, "tasks_existed": 0, "objects": 0, "errors": []}
    for page in bucket.pages(list_prefix(storage), recursive=storage.recursive_scan):
        objects = {key: size for key, size in page.items() if wants_key(storage, key)}
        page_counts = import_objects(storage, project, owner, bucket, objects)
        counts["created"] += page_counts["created"]
        counts["tasks_existed"] += page_counts["existed"]
        counts["objects"] += len(objects)
        counts["errors"] += page_counts["errors"]
    return counts


def import_objects(
    storage: Storage, project: Project, owner: User, bucket: StorageBucket, objects: dict[str, int]
) -> dict:
    """Import the objects (key -> size) the storage has not imported yet; returns created/existed/errors."""
    keys = list(objects)
    existing = storage_store.linked_keys(storage.id, keys)
    won = storage_store.claim(storage.id, [k for k in keys if k not in existing])
    errors: list[str] = []
    items_of: dict[str, list] = {}
    for key in won:
        try:
            items_of[key] = _items(storage, bucket, key, objects[key])
        except (ValidationFailed, BucketUnavailable) as exc:
            detail = exc.errors if isinstance(exc, ValidationFailed) else str(exc)
            errors.append(f"{key}: {detail}")
    failed = [k for k in won if k not in items_of]
    if failed:
        storage_store.release(storage.id, failed)
    created = 0
    limit = max(1, get_settings().sync_import_limit)
    batch: list[str] = []
    size = 0
    for next_key in [*items_of, None]:
        if next_key is not None and (not batch or size + len(items_of[next_key]) <= limit):
            batch.append(next_key)
            size += len(items_of[next_key])
            continue
        if batch:
            created += _import_batch(storage, project, owner, batch, items_of, errors)
        batch, size = ([next_key], len(items_of[next_key])) if next_key is not None else ([], 0)
    return {"created": created, "existed": len(existing), "errors": errors}


def _import_batch(
    storage: Storage, project: Project, owner: User, keys: list[str], items_of: dict, errors: list[str]
) -> int:
    raw = [item for key in keys for item in items_of[key]]
    try:
        result = importing.import_tasks(owner, project.id, raw)
    except ValidationFailed as exc:
        storage_store.release(storage.id, keys)
        errors.append(f"{', '.join(keys[:3])}{'…' if len(keys) > 3 else ''}: {exc.errors}")
        return 0
    except Exception:
        storage_store.release(storage.id, keys)
        raise
    if not storage.use_blob_urls:
        storage_store.record_counts(storage.id, {key: len(items_of[key]) for key in keys})
    return result.job.task_count


def _items(storage: Storage, bucket: StorageBucket, key: str, size: int) -> list:
    if storage.use_blob_urls:
        return [{"data": {DATA_UNDEFINED_NAME: blob_url(storage.bucket, key)}}]
    limit = get_settings().max_request_bytes
    if size > limit:
        raise ValidationFailed.field("file", f"larger than {limit} bytes")
    if not key.lower().endswith((".json", ".jsonl", ".ndjson")):
        raise ValidationFailed.field(
            "file",
            "use_blob_urls is off, so objects must be JSON or JSONL task files "
            "(or turn use_blob_urls on to make each object a task)",
        )
    body = bucket.read(key, limit)
    if len(body) > limit:
        raise ValidationFailed.field("file", f"larger than {limit} bytes")
    items = read_import_file(key, body)
    if len(items) > get_settings().sync_import_limit:
        raise ValidationFailed.field(
            "file", f"more than {get_settings().sync_import_limit} tasks in one file; split it"
        )
    return items


def sync_objects(bucket: str, keys: list[str]) -> int:
    """S3 object-created events: import these objects into every source storage of `bucket` that wants
    them. Raises when S3 or the store fails, so the event is retried; returns the tasks created."""
    created = 0
    for storage in storage_store.sources_of_bucket(bucket):
        try:
            wanted = [k for k in keys if wants_key(storage, k)]
        except ValidationFailed as exc:  # a retry would not fix a saved filter that can no longer compile
            logger.warning("storage %s skipped: %s", storage.id, exc.errors)
            continue
        if not wanted:
            continue
        counts = import_objects(
            storage,
            project_store.get(storage.project_id),
            user_store.get(storage.created_by),
            _bucket(storage),
            dict.fromkeys(wanted, 0),
        )
        created += counts["created"]
        for error in counts["errors"]:
            logger.warning("storage %s: object not imported: %s", storage.id, error)
    return created


# --- target storage -------------------------------------------------------------------------------------


def annotation_object(annotation, task, user) -> dict:
    """What Label Studio writes for an annotation: the annotation, its task (without annotations) nested,
    and `completed_by` as a small user object (ls-samples/storage_s3_export_objects.json)."""
    body = annotation_json(annotation, user)
    for extra in ("version", "review_status", "reviewed_by", "reviewed_at"):
        body.pop(extra, None)
    body["completed_by"] = (
        {"id": user.id, "first_name": user.first_name, "last_name": user.last_name, "email": user.email}
        if user
        else annotation.completed_by
    )
    body["task"] = {**task_json(task), "allow_skip": True, "precomputed_agreement": None}
    return body


def _put(storage: Storage, bucket: StorageBucket, annotation, task, users) -> None:
    body = json.dumps(
        annotation_object(annotation, task, users.get(annotation.completed_by)), ensure_ascii=False
    ).encode()
    bucket.put_json(target_key(storage, annotation.id), body, storage.aws_sse_kms_key_id)


def write_annotation(project_id: int, annotation_id: int) -> int:
    """Write the annotation's object to every target storage of its project; returns how many. A failing
    bucket raises (the stream retries the record). An annotation deleted meanwhile is not written."""
    targets = storage_store.list_for_project(project_id, TARGET)
    if not targets:
        return 0
    try:
        annotation = annotation_store.get(annotation_id)
    except NotFound:
        return 0
    task = task_store.get(annotation.task_id)
    users = user_store.batch_get([annotation.completed_by] if annotation.completed_by is not None else [])
    for storage in targets:
        _put(storage, _bucket(storage), annotation, task, users)
    return len(targets)


def remove_annotation(project_id: int, annotation_id: int) -> int:
    """Delete the annotation's object from the target storages that allow deletes; returns how many."""
    removed = 0
    for storage in storage_store.list_for_project(project_id, TARGET):
        if storage.can_delete_objects:
            _bucket(storage).delete(target_key(storage, annotation_id))
            removed += 1
    return removed


def _sync_target(storage: Storage) -> dict:
    bucket = _bucket(storage)
    chunk: list[int] = []
    written = 0

    def flush(ids: list[int], pool: ThreadPoolExecutor) -> int:
        annotations = annotation_store.batch_get(ids)
        tasks = {t.id: t for t in task_store.batch_get(sorted({a.task_id for a in annotations}))}
        users = user_store.batch_get({a.completed_by for a in annotations if a.completed_by is not None})
        work = [
            pool.submit(_put, storage, bucket, a, tasks[a.task_id], users)
            for a in annotations
            if a.task_id in tasks
        ]
        for future in work:
            future.result()
        return len(work)

    with ThreadPoolExecutor(max_workers=_TARGET_THREADS) as pool:
        for annotation_id in annotation_store.ids_of_project(storage.project_id):
            chunk.append(annotation_id)
            if len(chunk) == 100:
                written += flush(chunk, pool)
                chunk = []
        if chunk:
            written += flush(chunk, pool)
    return {"created": written, "total_annotations": written}
