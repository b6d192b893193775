"""Cloud storages and the objects source storages imported (their links). Their buckets themselves are
reached through functions/store/s3_buckets.py.

Links make a sync idempotent: a sync claims each new object's key with a conditional write *before* it
imports the object's tasks, so two syncs (or a sync and an object-created event) never import an object
twice; a failed import gives its claims back.
"""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import PutError
from pynamodb.expressions.update import Action

from functions.domain.errors import NotFound
from functions.domain.records import utcnow
from functions.domain.storage import PLATFORM_FIELDS, SOURCE, Storage, editable
from functions.store import ids, setting_maps
from functions.store.errors import conflict_on_condition
from functions.store.models import StorageLinkModel, StorageModel

NOT_FOUND = {
    "import": "No S3ImportStorage matches the given query.",
    "export": "No S3ExportStorage matches the given query.",
}
# DynamoDB's limits: 100 items per transaction, 100 keys per BatchGetItem.
_CLAIM_CHUNK = 100  # keys per BatchGetItem
_CLAIM_WORKERS = 8
# A sync that has not reported for this long died (a Lambda timeout): another may take over.
STALE_SYNC = timedelta(minutes=20)


def _stored_fields(kind: str) -> tuple[str, ...]:
    return editable(kind) + PLATFORM_FIELDS


def _setting_values(storage: Storage) -> dict[str, str]:
    data = dataclasses.asdict(storage)
    return setting_maps.texts({k: data[k] for k in _stored_fields(storage.kind)})


def _to_storage(item: StorageModel) -> Storage:
    kind = item.kind
    return Storage(
        id=int(item.id),
        project_id=int(item.project_id),
        kind=kind,
        created_by=int(item.created_by),
        status=item.status or "initialized",
        last_sync=item.last_sync,
        last_sync_count=int(item.last_sync_count) if item.last_sync_count is not None else None,
        traceback=item.traceback,
        meta=json.loads(item.meta or "{}"),
        created_at=item.created_at,
        version=int(item.version or 0),
        **setting_maps.stored(item.fields, item.setting_values, _stored_fields(kind)),
    )


def new_id() -> int:
    return ids.reserve("storage")


def create(storage: Storage) -> Storage:
    item = StorageModel(
        storage.id,
        project_id=storage.project_id,
        kind=storage.kind,
        source_bucket=storage.bucket if storage.kind == SOURCE else None,
        created_by=storage.created_by,
        setting_values=_setting_values(storage),
        status=storage.status,
        meta=json.dumps(storage.meta),
        created_at=storage.created_at,
        version=0,
    )
    with conflict_on_condition("storage id already taken"):
        item.save(condition=StorageModel.id.does_not_exist())
    return storage


def get(storage_id: int, kind: str) -> Storage:
    try:
        item = StorageModel.get(storage_id, consistent_read=True)
    except StorageModel.DoesNotExist:
        raise NotFound(NOT_FOUND[kind]) from None
    if item.kind != kind:
        raise NotFound(NOT_FOUND[kind])
    return _to_storage(item)


def list_for_project(project_id: int, kind: str | None = None) -> list[Storage]:
    condition = StorageModel.kind == kind if kind else None
    return [
        _to_storage(item) for item in StorageModel.project_index.query(project_id, filter_condition=condition)
    ]


def sources_of_bucket(bucket: str) -> list[Storage]:
    keys = [int(item.id) for item in StorageModel.source_bucket_index.query(bucket)]
    return [_to_storage(item) for item in StorageModel.batch_get(keys)] if keys else []


def update_fields(
    storage: Storage, changes: dict[str, Any], *, unchanged: dict[str, Any] | None = None
) -> Storage:
    """Set the settings in `changes`, and only those, in one UpdateItem (a source's bucket index entry
    follows its bucket); the storage as the write left it. `unchanged`: settings whose stored values the
    caller checked the storage with; Conflict if another change moved them. NotFound when it is gone."""
    actions: list[Action] = []
    if storage.kind == SOURCE and "bucket" in changes:
        actions.append(StorageModel.source_bucket.set(changes["bucket"]))
    old = setting_maps.update(
        StorageModel,
        storage.id,
        {name: setting_maps.dumps(value) for name, value in changes.items()},
        document="fields",
        actions=actions,
        unchanged=setting_maps.texts(unchanged or {}),
        stale="The storage was changed by someone else; reload it and try again.",
        missing=NOT_FOUND[storage.kind],
    )
    before = _to_storage(old)
    return dataclasses.replace(before, **changes, version=before.version + 1)


def set_status(
    storage: Storage,
    status: str,
    *,
    meta: dict,
    count: int | None = None,
    traceback: str | None = None,
    finished: bool = False,
) -> None:
    """What a sync reports (no version check: a sync never conflicts with a user's edit)."""
    storage.status, storage.meta, storage.traceback = status, meta, traceback
    actions: list[Action] = [
        StorageModel.status.set(status),
        StorageModel.meta.set(json.dumps(meta)),
        StorageModel.traceback.set(traceback) if traceback else StorageModel.traceback.remove(),
    ]
    if finished:
        storage.last_sync, storage.last_sync_count = utcnow(), count
        actions += [
            StorageModel.last_sync.set(storage.last_sync),
            StorageModel.last_sync_count.set(count or 0),
        ]
    with conflict_on_condition(NOT_FOUND[storage.kind]):
        StorageModel(storage.id).update(actions=actions, condition=StorageModel.id.exists())


def start_sync(storage: Storage, meta: dict) -> bool:
    """Mark the storage's sync as running unless another one is (and is alive); False if one is."""
    now = utcnow()
    meta = {**meta, "time_in_progress": str(now), "time_last_ping": str(now)}
    free = (
        (StorageModel.status != "in_progress")
        | StorageModel.sync_started_at.does_not_exist()
        | (StorageModel.sync_started_at < now - STALE_SYNC)
    )
    try:
        StorageModel(storage.id).update(
            actions=[
                StorageModel.status.set("in_progress"),
                StorageModel.meta.set(json.dumps(meta)),
                StorageModel.sync_started_at.set(now),
            ],
            condition=StorageModel.id.exists() & free,
        )
    except Exception as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    storage.status, storage.meta = "in_progress", meta
    return True


def delete(storage: Storage) -> None:
    StorageModel(storage.id).delete()
    if storage.kind == SOURCE:
        # The links go too: a storage created again for the bucket imports its objects again, as in LS.
        with StorageLinkModel.batch_write() as batch:
            for link in StorageLinkModel.query(storage.id, attributes_to_get=["storage_id", "key"]):
                batch.delete(link)


# --- links -----------------------------------------------------------------------------------------------


def linked_keys(storage_id: int, keys: list[str]) -> set[str]:
    """Which of `keys` the storage already imported (BatchGetItem, 100 keys a call)."""
    found: set[str] = set()
    for start in range(0, len(keys), _CLAIM_CHUNK):
        chunk = keys[start : start + _CLAIM_CHUNK]
        for item in StorageLinkModel.batch_get([(storage_id, k) for k in chunk], attributes_to_get=["key"]):
            found.add(item.key)
    return found


def claim(storage_id: int, keys: list[str]) -> list[str]:
    """Claim the keys no other sync has claimed; return those this call won.

    One conditional put per key, a few at a time. Not one transaction per 100 keys: DynamoDB bills a
    transactional write at twice a plain one, and the emulator copies every table inside a
    TransactWriteItems call, which took a local 10,000-object sync past 24 GB of memory.
    """
    now = utcnow()

    def won(key: str) -> bool:
        try:
            StorageLinkModel(storage_id, key, created_at=now).save(
                condition=StorageLinkModel.key.does_not_exist()
            )
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False  # another sync imports this object
            raise
        return True

    with ThreadPoolExecutor(max_workers=_CLAIM_WORKERS) as pool:
        return [key for key, claimed in zip(keys, pool.map(won, keys), strict=True) if claimed]


def record_counts(storage_id: int, counts: dict[str, int]) -> None:
    """How many tasks each claimed object became (written once the tasks are)."""
    now = utcnow()
    with StorageLinkModel.batch_write() as batch:
        for key, count in counts.items():
            batch.save(StorageLinkModel(storage_id, key, task_count=count, created_at=now))


def release(storage_id: int, keys: list[str]) -> None:
    """Give claims back after a failed import, so the next sync imports those objects."""
    with StorageLinkModel.batch_write() as batch:
        for key in keys:
            batch.delete(StorageLinkModel(storage_id, key))
