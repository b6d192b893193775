"""PynamoDB models: the one schema for DynamoDB.

The CDK stack and the local stack both build their tables from these classes (see `ALL_MODELS` and
`table_specs`), so keys, indexes, streams and TTL are declared here and nowhere else.

Design notes (ARCHITECTURE.md, "Data model"):
- ids are integers from `Counter`, reserved in ranges for bulk writes;
- a task lists its annotation and prediction ids, so reading a page of tasks with their annotations is a
  fixed number of BatchGetItem calls instead of one query per task;
- JSON fields are stored as strings; a value over the offload bound lives in S3 and the item keeps its key.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING

import botocore.loaders
import botocore.session
import pynamodb.connection.base
from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    NumberSetAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

if TYPE_CHECKING:
    from pynamodb._schema import KeySchema

from functions.settings import Settings, get_settings
from functions.store.bulk import plain_item

# The ids the counters hand out fit a signed 64-bit integer (Label Studio's are PostgreSQL bigints).
ID_LIMIT = 2**63 - 1


def _reachable(key) -> bool:
    """Whether a key may name an item: a number beyond any id names nothing, and asking about it would
    fail (out of DynamoDB's number range, or of SQLite's integers) instead of finding nothing."""
    return not isinstance(key, int | float) or isinstance(key, bool) or -ID_LIMIT <= key <= ID_LIMIT


class _Base(Model):
    class Meta:
        abstract = True
        table_name = ""  # set by configure()
        region = "us-east-1"

    # Short table name; the deployed name is the configured prefix + this.
    TABLE = ""

    @classmethod
    def get(cls, hash_key, range_key=None, *args, **kwargs):
        """As Model.get; a key no id can have (a client's 10**40, say) does not exist."""
        if not (_reachable(hash_key) and _reachable(range_key)):
            raise cls.DoesNotExist()
        return super().get(hash_key, range_key, *args, **kwargs)

    @classmethod
    def batch_get(cls, items, *args, **kwargs):
        """As Model.batch_get; keys no id can have are left out, as missing items are."""
        keys = [
            key
            for key in items
            if all(_reachable(part) for part in (key if isinstance(key, tuple | list) else (key,)))
        ]
        return super().batch_get(keys, *args, **kwargs)

    @classmethod
    def get_plain(cls, hash_key, *, consistent: bool = False) -> SimpleNamespace:
        """As `get`, read into the attribute values without building a Model (bulk.plain_item): for reads
        that only turn the item into a record."""
        if not _reachable(hash_key):
            raise cls.DoesNotExist()
        key, _ = cls._serialize_keys(hash_key)
        item = (cls._get_connection().get_item(key, consistent_read=consistent) or {}).get("Item")
        if not item:
            raise cls.DoesNotExist()
        return plain_item(cls, item)

    @classmethod
    def batch_get_plain(cls, hash_keys: Iterable) -> Iterator[SimpleNamespace]:
        """As `batch_get` (100 keys a call, unprocessed keys asked again), read as `get_plain` reads."""
        name = cls._hash_key_attribute().attr_name
        keys = [{name: cls._serialize_keys(key)[0]} for key in set(hash_keys) if _reachable(key)]
        for start in range(0, len(keys), 100):
            pending = keys[start : start + 100]
            while pending:
                page, unprocessed = cls._batch_get_page(pending, consistent_read=None, attributes_to_get=None)
                for item in page:
                    yield plain_item(cls, item)
                pending = unprocessed or []


class Counter(_Base):
    TABLE = "counters"
    name = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)


class UserModel(_Base):
    class EmailIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "email-index"
            projection = KeysOnlyProjection()

        email = UnicodeAttribute(hash_key=True)

    class OrganizationIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "organization-index"
            projection = AllProjection()

        organization = NumberAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    TABLE = "users"
    id = NumberAttribute(hash_key=True)
    organization = NumberAttribute(default=1)
    email = UnicodeAttribute()
    role = UnicodeAttribute(default="annotator")
    username = UnicodeAttribute(default="")
    first_name = UnicodeAttribute(default="")
    last_name = UnicodeAttribute(default="")
    # scrypt, with its salt and parameters (functions/domain/passwords.py); never leaves the store's users
    # module but to be checked.
    password_hash = UnicodeAttribute(null=True)
    # Consecutive failed password sign-ins and when the last one was: they slow the next attempts.
    failed_sign_ins = NumberAttribute(default=0)
    last_failed_sign_in = UTCDateTimeAttribute(null=True)
    # Hash of the current `Token <key>` credential, so resetting it can revoke the old one.
    legacy_token_hash = UnicodeAttribute(null=True)
    # The random seed the current key was derived from with the installation's secret (identity.py), so
    # the key can be shown again; absent for a key given from outside (the installer's).
    legacy_token_seed = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    last_activity = UTCDateTimeAttribute(null=True)
    is_active = BooleanAttribute(default=True)
    # Every credential row carries the generation it was minted in; one that differs is dead.
    credential_generation = NumberAttribute(default=0)
    email_index = EmailIndex()
    organization_index = OrganizationIndex()


class TokenModel(_Base):
    """API credentials, stored by the SHA-256 of the secret: a leaked table does not leak tokens."""

    class UserIndex(GlobalSecondaryIndex):
        """A user's credentials of one kind: listing and revoking personal access tokens by id."""

        class Meta:
            index_name = "user-index"
            projection = AllProjection()

        user_id = NumberAttribute(hash_key=True)
        kind = UnicodeAttribute(range_key=True)

    TABLE = "tokens"
    token_hash = UnicodeAttribute(hash_key=True)
    user_id = NumberAttribute()
    # "legacy" (Token <key>), "refresh" (a personal access token, a JWT), "session" (a web UI cookie) or
    # "invite" (a sign-up link; `user_id` is who made it)
    kind = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(null=True)
    # The user's credential generation when this was minted (see UserModel.credential_generation).
    generation = NumberAttribute(default=0)
    jti = UnicodeAttribute(null=True)  # personal access tokens: the JWT's id, what the API names them by
    # Invitations: the role the new user gets, the project they join and the one email that may use it.
    role = UnicodeAttribute(null=True)
    project_id = NumberAttribute(null=True)
    email = UnicodeAttribute(null=True)
    user_index = UserIndex()


class ProjectModel(_Base):
    class OrganizationIndex(GlobalSecondaryIndex):
        """Lists every project for admins without a Scan; one organization per installation."""

        class Meta:
            index_name = "organization-index"
            projection = KeysOnlyProjection()

        organization = NumberAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    TABLE = "projects"
    id = NumberAttribute(hash_key=True)
    organization = NumberAttribute(default=1)
    title = UnicodeAttribute()
    created_by = NumberAttribute()
    created_at = UTCDateTimeAttribute()
    # Every editable setting, one entry each holding its value as JSON text: a change SETs the entries it
    # carries (`setting_values.color`), so concurrent changes of different settings never collide.
    setting_values: MapAttribute[str, str] = MapAttribute(null=True)
    # Before `setting_values`: all settings as one JSON document. Read while present; the first settings
    # change of such a project moves it into `setting_values` (store/projects.py).
    settings = UnicodeAttribute(null=True)
    task_number = NumberAttribute(default=0)
    total_annotations_number = NumberAttribute(default=0)
    skipped_annotations_number = NumberAttribute(default=0)
    ground_truth_number = NumberAttribute(default=0)
    total_predictions_number = NumberAttribute(default=0)
    num_tasks_with_annotations = NumberAttribute(default=0)
    finished_task_number = NumberAttribute(default=0)
    tasks_removed = NumberAttribute(default=0)
    # Next per-project task number (Label Studio's inner_id), reserved in ranges like global ids.
    inner_id_seq = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    organization_index = OrganizationIndex()


class MembershipModel(_Base):
    class UserIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "user-index"
            projection = AllProjection()

        user_id = NumberAttribute(hash_key=True)
        project_id = NumberAttribute(range_key=True)

    TABLE = "memberships"
    project_id = NumberAttribute(hash_key=True)
    user_id = NumberAttribute(range_key=True)
    created_at = UTCDateTimeAttribute()
    user_index = UserIndex()


# What the label stream reads from its indexes: enough to decide on a lease without the task's data.
QUEUE_FIELDS = [
    "overlap",
    "total_annotations",
    "cancelled_annotations",
    "locks",
    "annotators",
    "skipped_by",
    "lease_rev",
]


class TaskModel(_Base):
    """A task. While it still needs work it carries `queue_project`, which puts it in the three sparse
    queue indexes (one per sampling order); labeling it removes the attribute and so the index entries.
    `/next` then reads one page of one index, whatever the project size."""

    class QueueIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "queue-index"
            projection = IncludeProjection(QUEUE_FIELDS)

        queue_project = NumberAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    class RandomQueueIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "queue-random-index"
            projection = IncludeProjection(QUEUE_FIELDS)

        queue_project = NumberAttribute(hash_key=True)
        queue_random = NumberAttribute(range_key=True)

    class UncertaintyQueueIndex(GlobalSecondaryIndex):
        """Only tasks with a prediction of the project's model version have `uncertainty`."""

        class Meta:
            index_name = "queue-uncertainty-index"
            projection = IncludeProjection(QUEUE_FIELDS)

        queue_project = NumberAttribute(hash_key=True)
        uncertainty = NumberAttribute(range_key=True)

    class ProjectIndex(GlobalSecondaryIndex):
        """A project's tasks in id order; keys only, pages are then read with BatchGetItem."""

        class Meta:
            index_name = "project-index"
            projection = KeysOnlyProjection()

        project_id = NumberAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    TABLE = "tasks"
    id = NumberAttribute(hash_key=True)
    project_id = NumberAttribute()
    data = UnicodeAttribute(null=True)  # JSON
    data_ref = UnicodeAttribute(null=True)  # S3 key when the JSON is over the offload bound
    meta = UnicodeAttribute(default="{}")
    inner_id = NumberAttribute(default=0)
    overlap = NumberAttribute(default=1)
    is_labeled = BooleanAttribute(default=False)
    total_annotations = NumberAttribute(default=0)
    cancelled_annotations = NumberAttribute(default=0)
    total_predictions = NumberAttribute(default=0)
    annotation_ids = NumberSetAttribute(null=True)
    prediction_ids = NumberSetAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    updated_by = NumberAttribute(null=True)
    version = NumberAttribute(default=0)
    # Label stream state (see functions/domain/label_stream.py).
    queue_project = NumberAttribute(null=True)
    queue_random = NumberAttribute(null=True)
    uncertainty = NumberAttribute(null=True)
    labeling_count = NumberAttribute(default=0)
    annotators = NumberSetAttribute(null=True)
    skipped_by = NumberSetAttribute(null=True)
    # str(user id) -> lease expiry, epoch seconds
    locks: MapAttribute[str, float] = MapAttribute(default=dict)
    lease_rev = NumberAttribute(default=0)
    completed_at = UTCDateTimeAttribute(null=True)
    # model version -> score of its latest prediction
    prediction_scores: MapAttribute[str, float] = MapAttribute(default=dict)
    project_index = ProjectIndex()
    queue_index = QueueIndex()
    random_queue_index = RandomQueueIndex()
    uncertainty_queue_index = UncertaintyQueueIndex()


class LeaseModel(_Base):
    """Which task a user holds in a project, so `/next` hands it back without searching (a pointer;
    the lease itself lives on the task and is checked there)."""

    TABLE = "leases"
    project_id = NumberAttribute(hash_key=True)
    user_id = NumberAttribute(range_key=True)
    task_id = NumberAttribute()
    expires_at = TTLAttribute()


class AnnotationModel(_Base):
    class ProjectIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "project-index"
            projection = KeysOnlyProjection()

        project_id = NumberAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    TABLE = "annotations"
    # The stream drives webhooks, target storage and training (ARCHITECTURE.md, "Events").
    STREAM_VIEW = "NEW_AND_OLD_IMAGES"
    id = NumberAttribute(hash_key=True)
    task_id = NumberAttribute()
    project_id = NumberAttribute()
    result = UnicodeAttribute(null=True)  # JSON
    result_ref = UnicodeAttribute(null=True)
    completed_by = NumberAttribute(null=True)
    updated_by = NumberAttribute(null=True)
    was_cancelled = BooleanAttribute(default=False)
    ground_truth = BooleanAttribute(default=False)
    lead_time = NumberAttribute(null=True)
    review_status = UnicodeAttribute(null=True)  # "accepted" | "rejected"
    reviewed_by = NumberAttribute(null=True)
    reviewed_at = UTCDateTimeAttribute(null=True)
    review_comment = UnicodeAttribute(null=True)
    import_id = NumberAttribute(null=True)
    parent_prediction = NumberAttribute(null=True)
    parent_annotation = NumberAttribute(null=True)
    last_action = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)
    project_index = ProjectIndex()


class PredictionModel(_Base):
    class ProjectIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "project-index"
            projection = KeysOnlyProjection()

        project_id = NumberAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    TABLE = "predictions"
    id = NumberAttribute(hash_key=True)
    task_id = NumberAttribute()
    project_id = NumberAttribute()
    result = UnicodeAttribute(null=True)  # JSON
    result_ref = UnicodeAttribute(null=True)
    score = NumberAttribute(null=True)
    model_version = UnicodeAttribute(default="undefined")
    model = NumberAttribute(null=True)
    cluster = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    project_index = ProjectIndex()


class ModelVersionModel(_Base):
    """How many of a project's predictions carry each model version, and when the latest arrived: what
    `GET /api/projects/{id}/model-versions` lists and what the project's `model_version` is checked
    against, read with one Query whatever the number of predictions. Kept by atomic ADDs wherever
    predictions are stored or deleted (store/predictions.py); the item `COUNTED_KEY` says the project's
    predictions have been counted since it was created (projects from before the table are counted once,
    store/model_versions.py)."""

    TABLE = "model-versions"
    COUNTED_KEY = "counted"
    project_id = NumberAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)  # "v:" + the model version (which may be ""), or COUNTED_KEY
    model_version = UnicodeAttribute(null=True)
    predictions = NumberAttribute(default=0)  # how many carry it (on COUNTED_KEY: 0 counting, 1 done)
    latest = UTCDateTimeAttribute(null=True)


class ImportJobModel(_Base):
    TABLE = "imports"
    id = NumberAttribute(hash_key=True)
    project_id = NumberAttribute()
    created_by = NumberAttribute()
    status = UnicodeAttribute(default="created")
    task_count = NumberAttribute(default=0)
    annotation_count = NumberAttribute(default=0)
    prediction_count = NumberAttribute(default=0)
    first_task_id = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    duration = NumberAttribute(null=True)
    body_ref = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)


class ExportSnapshotModel(_Base):
    """An export snapshot: built by a job into S3 (`exports/<project>/<id>/`), downloaded by presigned URL."""

    class ProjectIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "project-index"
            projection = AllProjection()

        project_id = NumberAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    TABLE = "exports"
    id = NumberAttribute(hash_key=True)
    project_id = NumberAttribute()
    title = UnicodeAttribute(default="")
    created_by = NumberAttribute()
    created_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    status = UnicodeAttribute(default="created")  # created | in_progress | completed | failed
    md5 = UnicodeAttribute(null=True)
    task_number = NumberAttribute(default=0)
    error = UnicodeAttribute(null=True)
    options = UnicodeAttribute(default="{}")  # JSON: what the snapshot was asked to include
    converted: MapAttribute[str, str] = MapAttribute(default=dict)  # export type -> status of its conversion
    project_index = ProjectIndex()


class FileUploadModel(_Base):
    """A file uploaded into a project (Label Studio's FileUpload); its bytes are in the files bucket."""

    class ProjectIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "project-index"
            projection = AllProjection()

        project_id = NumberAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    TABLE = "file-uploads"
    id = NumberAttribute(hash_key=True)
    project_id = NumberAttribute()
    user_id = NumberAttribute()
    file = UnicodeAttribute()  # upload/<project>/<name>, as Label Studio shows it
    size = NumberAttribute()
    created_at = UTCDateTimeAttribute()
    project_index = ProjectIndex()


class IdempotencyModel(_Base):
    """The table Powertools' idempotency utility writes to (its default attribute names)."""

    TABLE = "idempotency"
    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute(null=True)


class MLBackendModel(_Base):
    """An ML backend of a project: an `http` URL speaking Label Studio's protocol, or a SageMaker endpoint."""

    class ProjectIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "project-index"
            projection = AllProjection()

        project_id = NumberAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    TABLE = "ml-backends"
    id = NumberAttribute(hash_key=True)
    project_id = NumberAttribute()
    # What users set (functions/domain/ml_backend.py EDITABLE), one entry each (store/setting_maps.py), so
    # a change writes only the settings it carries.
    setting_values: MapAttribute[str, str] = MapAttribute(null=True)
    # Before `setting_values`: the settings as one JSON document, moved into the map by the first change.
    fields = UnicodeAttribute(null=True)
    # What the server learns by calling the backend, written without the version check so a running
    # prediction job never conflicts with a user's edit.
    state = UnicodeAttribute(default="DI")
    error_message = UnicodeAttribute(null=True)
    model_version = UnicodeAttribute(default="")
    job = UnicodeAttribute(null=True)  # JSON: the latest background prediction job and its progress
    # The training run in progress (at most one: set by a conditional write), and the project's annotation
    # count the last successful run trained on (functions/domain/training.py).
    training_run = NumberAttribute(null=True)
    trained_annotations = NumberAttribute(default=0)
    training_failed = BooleanAttribute(default=False)
    predict_failed = BooleanAttribute(default=False)  # the error is a failed prediction's
    # A `sagemaker` backend whose endpoint another project owns (MLEndpointModel): it may predict, never
    # train. Written by the server when the backend is connected, never by users.
    read_only = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)
    project_index = ProjectIndex()


class MLEndpointModel(_Base):
    """Who owns a SageMaker endpoint: the first project that registered it (a conditional put), so no other
    project's backend can retrain what that project serves. Released when the project's last backend on
    the endpoint goes."""

    TABLE = "ml-endpoints"
    endpoint = UnicodeAttribute(hash_key=True)  # "<region>/<endpoint name>"
    owner_project_id = NumberAttribute()
    owner_backend_id = NumberAttribute()  # the backend that claimed it (for messages and audits)
    claimed_at = UTCDateTimeAttribute()


class TrainingModel(_Base):
    """A training run of an ML backend (`GET /api/ml/{id}/trainings`)."""

    class BackendIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "backend-index"
            projection = AllProjection()

        backend_id = NumberAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    TABLE = "trainings"
    id = NumberAttribute(hash_key=True)
    backend_id = NumberAttribute()
    project_id = NumberAttribute()
    kind = UnicodeAttribute()
    trigger = UnicodeAttribute()
    annotations = NumberAttribute(default=0)
    status = UnicodeAttribute(default="running")
    started_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    model_version = UnicodeAttribute(null=True)
    metrics = UnicodeAttribute(default="{}")  # JSON: what the training reported
    error = UnicodeAttribute(null=True)
    execution = UnicodeAttribute(null=True)
    backend_index = BackendIndex()


class StorageModel(_Base):
    """A cloud storage of a project (functions/domain/storage.py): a source that tasks come from, or a
    target that annotations go to. Source storages are also found by bucket, for S3 object-created events."""

    class ProjectIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "project-index"
            projection = AllProjection()

        project_id = NumberAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    class SourceBucketIndex(GlobalSecondaryIndex):
        """Sparse: only source storages carry `source_bucket`."""

        class Meta:
            index_name = "source-bucket-index"
            projection = KeysOnlyProjection()

        source_bucket = UnicodeAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    TABLE = "storages"
    id = NumberAttribute(hash_key=True)
    project_id = NumberAttribute()
    kind = UnicodeAttribute()  # "import" | "export"
    source_bucket = UnicodeAttribute(null=True)
    created_by = NumberAttribute()
    # What users set, credentials included (never returned), one entry each (store/setting_maps.py).
    setting_values: MapAttribute[str, str] = MapAttribute(null=True)
    fields = UnicodeAttribute(null=True)  # before `setting_values`: one JSON document
    status = UnicodeAttribute(default="initialized")
    last_sync = UTCDateTimeAttribute(null=True)
    last_sync_count = NumberAttribute(null=True)
    sync_started_at = UTCDateTimeAttribute(null=True)  # of the running sync: one at a time per storage
    traceback = UnicodeAttribute(null=True)
    meta = UnicodeAttribute(default="{}")
    created_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)
    project_index = ProjectIndex()
    source_bucket_index = SourceBucketIndex()


class StorageLinkModel(_Base):
    """An object a source storage imported: written (conditionally) before its tasks, so an object is
    imported once however many syncs and events see it."""

    TABLE = "storage-links"
    storage_id = NumberAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    task_count = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()


class WebhookModel(_Base):
    """A webhook: a URL told about a project's events (project 0: every project, admins only)."""

    class ProjectIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "project-index"
            projection = AllProjection()

        project_id = NumberAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    TABLE = "webhooks"
    id = NumberAttribute(hash_key=True)
    project_id = NumberAttribute()
    organization = NumberAttribute(default=1)
    # url, send_payload, send_for_all_actions, headers, is_active, actions: one entry each
    # (store/setting_maps.py); before `setting_values`, one JSON document in `fields`.
    setting_values: MapAttribute[str, str] = MapAttribute(null=True)
    fields = UnicodeAttribute(null=True)
    secret = UnicodeAttribute()  # signs each delivery; never shown
    # The ML backend this webhook was made for (functions/domain/ml_webhooks.py): it follows that
    # backend's URL and goes with it. None for webhooks users made.
    ml_backend = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)
    project_index = ProjectIndex()


class WebhookDeliveryModel(_Base):
    """One delivery of one event to one webhook, and what happened to it (the delivery log)."""

    TABLE = "webhook-deliveries"
    webhook_id = NumberAttribute(hash_key=True)
    delivery_id = UnicodeAttribute(range_key=True)  # time-ordered, so the log reads newest first
    action = UnicodeAttribute()
    # queued | retrying | delivered | failed | sent (an ML backend had not answered; not retried)
    status = UnicodeAttribute(default="queued")
    attempts = NumberAttribute(default=0)
    response_status = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(null=True)


class ViewModel(_Base):
    """A Data Manager view (a tab of a project's task list; functions/domain/dm_views.py)."""

    class ProjectIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "project-index"
            projection = AllProjection()

        project_id = NumberAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    TABLE = "views"
    id = NumberAttribute(hash_key=True)
    project_id = NumberAttribute()
    user_id = NumberAttribute(null=True)  # who made it
    data = UnicodeAttribute()  # JSON: title, filters, ordering, hiddenColumns, ... (bounded: 64 KB)
    order = NumberAttribute(default=0)  # the tab's place, left to right
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)
    project_index = ProjectIndex()


class DraftModel(_Base):
    """An annotation draft (functions/domain/drafts.py): found by id, by task (given back with the task),
    and by project (deleted with it)."""

    class TaskIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "task-index"
            projection = AllProjection()

        task_id = NumberAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    class ProjectIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "project-index"
            projection = KeysOnlyProjection()

        project_id = NumberAttribute(hash_key=True)
        id = NumberAttribute(range_key=True)

    TABLE = "drafts"
    id = NumberAttribute(hash_key=True)
    task_id = NumberAttribute()
    project_id = NumberAttribute()
    user_id = NumberAttribute()
    annotation_id = NumberAttribute(null=True)  # the submitted annotation this draft changes, if any
    result = UnicodeAttribute(null=True)  # JSON
    result_ref = UnicodeAttribute(null=True)  # S3 key when the JSON is over the offload bound
    lead_time = NumberAttribute(null=True)
    was_postponed = BooleanAttribute(default=False)
    import_id = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    task_index = TaskIndex()
    project_index = ProjectIndex()


class StreamHistoryModel(_Base):
    """The tasks the label stream gave one user in one project, oldest first, with the annotation each
    got (Label Studio's LabelStreamHistory): what Back and Forward walk through."""

    TABLE = "stream-history"
    project_id = NumberAttribute(hash_key=True)
    user_id = NumberAttribute(range_key=True)
    entries = UnicodeAttribute(default="[]")  # JSON: [{"taskId", "annotationId"}], at most 100
    version = NumberAttribute(default=0)


ALL_MODELS: tuple[type[_Base], ...] = (
    Counter,
    UserModel,
    TokenModel,
    ProjectModel,
    MembershipModel,
    TaskModel,
    LeaseModel,
    AnnotationModel,
    PredictionModel,
    ModelVersionModel,
    ImportJobModel,
    FileUploadModel,
    ExportSnapshotModel,
    IdempotencyModel,
    MLBackendModel,
    MLEndpointModel,
    TrainingModel,
    StorageModel,
    StorageLinkModel,
    WebhookModel,
    WebhookDeliveryModel,
    ViewModel,
    DraftModel,
    StreamHistoryModel,
)


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: tuple[str, str]  # (attribute name, DynamoDB type: "S" | "N" | "B")
    range_key: tuple[str, str] | None
    projection: str  # "ALL" | "KEYS_ONLY" | "INCLUDE"
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """What a deployment needs to know to build one table: plain data, so infra needs no PynamoDB."""

    short_name: str
    hash_key: tuple[str, str]
    range_key: tuple[str, str] | None
    indexes: tuple[IndexSpec, ...]
    ttl_attribute: str | None
    stream_view: str | None


def _key(
    schema: Sequence[KeySchema | dict[str, str]], types: dict[str, str], kind: str
) -> tuple[str, str] | None:
    names = [key["AttributeName"] for key in schema if key["KeyType"] == kind]
    return (names[0], types[names[0]]) if names else None


def _hash_key(schema: Sequence[KeySchema | dict[str, str]], types: dict[str, str]) -> tuple[str, str]:
    found = _key(schema, types, "HASH")
    if found is None:
        raise ValueError(f"no HASH key in {schema}")
    return found


def table_specs() -> list[TableSpec]:
    """Every table of `ALL_MODELS`, read off PynamoDB's own schema (the one `create_table` sends)."""
    specs = []
    for model in ALL_MODELS:
        schema = model._get_schema()
        types = {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
        indexes = tuple(
            IndexSpec(
                name=gsi["index_name"],
                hash_key=_hash_key(gsi["key_schema"], types),
                range_key=_key(gsi["key_schema"], types, "RANGE"),
                projection=gsi["projection"]["ProjectionType"],
                non_key_attributes=tuple(gsi["projection"].get("NonKeyAttributes", ())),
            )
            for gsi in schema.get("global_secondary_indexes", [])
        )
        ttl = next(
            (name for name, attr in model.get_attributes().items() if isinstance(attr, TTLAttribute)), None
        )
        specs.append(
            TableSpec(
                short_name=model.TABLE,
                hash_key=_hash_key(schema["key_schema"], types),
                range_key=_key(schema["key_schema"], types, "RANGE"),
                indexes=indexes,
                ttl_attribute=ttl,
                stream_view=getattr(model, "STREAM_VIEW", None),
            )
        )
    return specs


# One botocore data loader for every PynamoDB connection. PynamoDB gives each model's connection a botocore
# session of its own, and each new session parses botocore's endpoint and service data again (1.2 MB of
# JSON, about 0.14 s): paid once per table a process touches, so a cold Lambda paid it for every table of a
# request, and every test that provisions the tables paid it twenty times. The loader caches what it read.
_DATA_LOADER = botocore.loaders.create_loader()


def _botocore_session() -> botocore.session.Session:
    session = botocore.session.get_session()
    session.register_component("data_loader", _DATA_LOADER)
    return session


def configure(settings: Settings | None = None) -> None:
    """Point every model at the configured table names and endpoint (moto locally, AWS otherwise)."""
    settings = settings or get_settings()
    pynamodb.connection.base.get_session = _botocore_session
    for model in ALL_MODELS:
        # Each model gets its own Meta (a subclass of the base one, which PynamoDB filled with defaults):
        # models that do not declare a Meta would otherwise all share, and overwrite, the base's.
        meta = {
            "table_name": settings.table_name(model.TABLE),
            "host": settings.aws_endpoint_url,
            "region": settings.region,
        }
        stream_view = getattr(model, "STREAM_VIEW", None)
        if stream_view:
            meta["stream_view_type"] = stream_view
        model.Meta = type("Meta", (_Base.Meta,), meta)  # type: ignore[misc,assignment]
        # PynamoDB caches one connection per class, bound to the old table name and host.
        model._connection = None
    if settings.store_engine == "sqlite":
        _answer_from_sqlite(settings)
    else:
        _share_one_client()


def _share_one_client() -> None:
    """Every model's connection sends through one botocore client, made by the first one as PynamoDB makes
    it (its timeouts, retries, no parameter validation). PynamoDB would make one per model: 19 clients,
    about 30 ms each, on every cold start of a function. A client is not bound to a table, and botocore
    clients are thread-safe (PynamoDB already shares each one across threads)."""
    client = ALL_MODELS[0]._get_connection().connection.client
    for model in ALL_MODELS[1:]:
        model._get_connection().connection._client = client


def _answer_from_sqlite(settings: Settings) -> None:
    """The `sqlite` engine: every model's connection sends its calls to SQLite in this process instead of
    to DynamoDB (functions/store/sqlite/dynamodb.py); everything above the connection is unchanged."""
    from functions.store.aws_clients import client as aws_client

    client = aws_client("dynamodb")
    for model in ALL_MODELS:
        model._get_connection().connection._client = client


def create_tables() -> None:
    """Create every table from its model, with on-demand billing, streams and TTL as declared (locally:
    the emulator, the sqlite engine and the tests; in AWS the CDK creates them). Tables answer at once
    there, so none is waited for."""
    existing = set(ALL_MODELS[0]._get_connection().connection.list_tables().get("TableNames", []))
    for model in ALL_MODELS:
        if model.Meta.table_name not in existing:
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=False)


configure()
