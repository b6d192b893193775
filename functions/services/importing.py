"""Importing tasks (with their predictions and annotations) into a project.

Every task is validated before anything is written, so bad input stores nothing. Writes go in
BatchWriteItem calls of 25 after one counter write reserves all the ids, so N tasks cost about N/25 calls.
Imports over `sync_import_limit` tasks run as a background job the client polls at
`GET /api/projects/{id}/imports/{import_id}` (what the legacy SDK client does when it gets `{"import": id}`).
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import suppress
from dataclasses import dataclass, field

from functions.domain.errors import Conflict, NotFound, ValidationFailed
from functions.domain.label_stream import counts_toward_labeled
from functions.domain.records import Annotation, ImportJob, Prediction, Project, Task, User, utcnow
from functions.domain.task_import import ImportedTask, normalize_import
from functions.services import access, file_uploads, jobs, webhooks
from functions.services.file_uploads import FilesRead
from functions.services.projects import config_of, replace_model_version
from functions.settings import get_settings
from functions.store import annotations as annotation_store
from functions.store import blobs, idempotency, ids
from functions.store import imports as import_store
from functions.store import predictions as prediction_store
from functions.store import projects as project_store
from functions.store import tasks as task_store
from functions.store import users as user_store

logger = logging.getLogger(__name__)


@dataclass
class ImportResult:
    job: ImportJob
    duration: float
    files: FilesRead | None = None  # what the import's files held, when it came as files
    file_upload_ids: list[int] = field(default_factory=list)

    def response(self, return_task_ids: bool) -> dict:
        """Label Studio's import response; a background import answers with its id instead of counts."""
        job = self.job
        files = self.files
        body: dict = {
            "file_upload_ids": self.file_upload_ids,
            "could_be_tasks_list": files.could_be_tasks_list if files else False,
            # Label Studio counts the files by extension ({".png": 2}); a JSON body found none.
            "found_formats": files.found_formats if files else [],
            "data_columns": files.data_columns if files else [],
        }
        if job.status != "completed":
            # Running in the background: the answer says only that (Label Studio's async import answers
            # `{"import": id}`), so a client polls instead of reading counts of an import not yet made.
            body["import"] = job.id
            return body
        body.update(
            task_count=job.task_count,
            annotation_count=job.annotation_count,
            prediction_count=job.prediction_count,
            duration=self.duration,
        )
        if return_task_ids:
            body["task_ids"] = job.task_ids
        return body


def read_payload(json_body) -> list:
    """The raw task list of a JSON body (uploaded files: `file_uploads.read_files`)."""
    if json_body is None:
        raise ValidationFailed.field(
            "non_field_errors", "No tasks: send a JSON list of tasks or upload a file."
        )
    return json_body


def import_tasks(user: User, project_id: int, raw_items, files: FilesRead | None = None) -> ImportResult:
    """Import `raw_items`, or the tasks of uploaded `files` (their media stored once every task checked
    out, and removed again if the tasks cannot be written)."""
    started = time.monotonic()
    project = access.project_for(user, project_id, manage=True)
    settings = get_settings()
    config = config_of(project)
    if files is not None:
        raw_items = files.items
        file_uploads.check_config(files, config.data_keys)
    if isinstance(raw_items, list) and len(raw_items) > settings.max_tasks_per_import:
        raise ValidationFailed.field(
            "non_field_errors",
            f"Too many tasks in one import: {len(raw_items)} > {settings.max_tasks_per_import}.",
        )
    tasks = normalize_import(raw_items, config)
    if not tasks:
        raise ValidationFailed.field("non_field_errors", "No tasks found in the import.")
    stored = file_uploads.store(project.id, user, files.media) if files is not None else []
    try:
        result = _import_checked(user, project, tasks, started)
    except Exception:
        file_uploads.discard(stored)
        raise
    result.files = files
    result.file_upload_ids = [u.id for u in stored]
    return result


def _import_checked(user: User, project: Project, tasks: list[ImportedTask], started: float) -> ImportResult:
    settings = get_settings()
    job = ImportJob(
        id=import_store.new_id(),
        project_id=project.id,
        created_by=user.id,
        task_count=len(tasks),
        annotation_count=sum(len(t.annotations) for t in tasks),
        prediction_count=sum(len(t.predictions) for t in tasks),
    )
    if len(tasks) <= settings.sync_import_limit:
        _write(project, tasks, user, job)
        return ImportResult(job, time.monotonic() - started)
    # Large: keep the validated tasks in S3 and let a job write them; when the job runs in this process,
    # hand them over as they are.
    body_ref = f"imports/{job.id}/tasks.json"
    in_process = jobs.run_here()
    if not in_process:
        blobs.put_bytes(body_ref, json.dumps([t.__dict__ for t in tasks]).encode(), "application/json")
    import_store.create(job, body_ref)
    if in_process:
        _VALIDATED[job.id] = tasks
    jobs.submit("import_tasks", {"import_id": job.id})
    return ImportResult(job, time.monotonic() - started)


# The validated tasks of background imports whose job runs in this process (`jobs.run_here`: the local
# stack's job threads), by import id. Written to the files bucket and parsed back, 100,000 tasks cost 0.7 s
# of a 9 s import; a job cut off by a stop of the process is cleared at the next start all the same
# (`clear_interrupted`), as it needs only the job's record.
_VALIDATED: dict[int, list[ImportedTask]] = {}


def run_import_job(import_id: int) -> None:
    validated = _VALIDATED.pop(import_id, None)
    job, body_ref = import_store.get(import_id)
    if job.status != "created" or body_ref is None:
        return  # a retried invocation of a job that already ran (every job is created with its body)
    job.status = "in_progress"
    import_store.update(job)
    started = time.monotonic()
    try:
        project = project_store.get(job.project_id)
        tasks = validated
        if tasks is None:
            tasks = [ImportedTask(**t) for t in json.loads(blobs.get_bytes(body_ref))]
        _write(project, tasks, user_store.get(job.created_by), job)
    except Exception as exc:
        logger.exception("import %s failed", import_id)
        job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
    job.duration = time.monotonic() - started
    job.finished_at = utcnow()
    import_store.update(job)
    blobs.delete(body_ref)


INTERRUPTED = (
    "labelstack stopped while this import ran, so none of it was kept (the tasks written before the stop "
    "were removed): import the file again"
)


def clear_interrupted() -> int:
    """Background imports cut off by a stop of the process that ran them: remove what they wrote and
    mark them failed, so the project's tasks and counters agree and the client polling learns why.

    Only for a process that runs jobs itself (`labelstack dev`/`serve`, at start): nothing else can be
    running them then. Returns how many were cleared.
    """
    cleared = 0
    for job, body_ref in import_store.unfinished():
        if job.first_task_id is not None:
            task_store.delete_many(range(job.first_task_id, job.first_task_id + job.task_count))
            with suppress(NotFound):  # the project may be gone since
                project_store.add_counters(job.project_id, tasks_removed=job.task_count)
        job.status, job.error, job.finished_at = "failed", INTERRUPTED, utcnow()
        job.first_task_id = None
        import_store.update(job)
        blobs.delete(body_ref)
        cleared += 1
    return cleared


def get_import(user: User, project_id: int, import_id: int) -> ImportJob:
    access.project_for(user, project_id)
    job, _ = import_store.get(import_id)
    if job.project_id != project_id:
        raise NotFound("No FileUpload matches the given query.")
    return job


def _annotators(tasks: list[ImportedTask], importer: User) -> dict:
    """Map each `completed_by` value found in the import to a user id (unknown ones: the importer)."""
    raw = {
        a["completed_by"]
        for t in tasks
        for a in t.annotations
        if a.get("completed_by") is not None and not isinstance(a["completed_by"], dict)
    }
    emails = {
        a["completed_by"].get("email")
        for t in tasks
        for a in t.annotations
        if isinstance(a.get("completed_by"), dict)
    }
    known = user_store.batch_get(v for v in raw if isinstance(v, int))
    by_email = {e: user_store.find_by_email(e) for e in emails if e}
    mapping: dict = {v: (v if v in known else importer.id) for v in raw}
    mapping.update({e: (u.id if u else importer.id) for e, u in by_email.items()})
    return mapping


def _write(project: Project, imported: list[ImportedTask], user: User, job: ImportJob) -> None:
    """Reserve ids, build records, write them in batches; on failure remove what was written."""
    n = len(imported)
    first_inner = project_store.reserve_inner_ids(project.id, n)
    first_task_id = ids.reserve("task", n)
    if job.status == "in_progress":
        # A background import notes its id range before writing, so one cut off half-way (a crash of
        # the process running it) can be cleared by `clear_interrupted`.
        job.first_task_id = first_task_id
        import_store.update(job)
    n_ann = job.annotation_count
    n_pred = job.prediction_count
    next_ann = ids.reserve("annotation", n_ann) if n_ann else 0
    next_pred = ids.reserve("prediction", n_pred) if n_pred else 0
    annotator_of = _annotators(imported, user) if n_ann else {}
    now = utcnow()
    overlap = project.maximum_annotations
    tasks: list[Task] = []
    annotations: list[Annotation] = []
    predictions: list[Prediction] = []
    counters = {
        "task_number": n,
        "total_annotations_number": 0,
        "skipped_annotations_number": 0,
        "ground_truth_number": 0,
        "total_predictions_number": n_pred,
        "num_tasks_with_annotations": 0,
        "finished_task_number": 0,
    }
    for offset, item in enumerate(imported):
        task = Task(
            id=first_task_id + offset,
            project_id=project.id,
            data=item.data,
            meta=item.meta,
            inner_id=first_inner + offset,
            overlap=overlap,
            created_at=now,
            updated_at=now,
        )
        for raw in item.annotations:
            completed_by = raw.get("completed_by")
            key = completed_by.get("email") if isinstance(completed_by, dict) else completed_by
            annotation = Annotation(
                id=next_ann,
                task_id=task.id,
                project_id=project.id,
                result=raw["result"],
                completed_by=annotator_of.get(key, user.id),
                updated_by=user.id,
                was_cancelled=raw["was_cancelled"],
                ground_truth=raw["ground_truth"],
                lead_time=raw["lead_time"],
                import_id=raw.get("import_id"),
                created_at=now,
                updated_at=now,
            )
            next_ann += 1
            annotations.append(annotation)
            task.annotation_ids.append(annotation.id)
            if annotation.was_cancelled:
                task.cancelled_annotations += 1
            else:
                task.total_annotations += 1
            if not annotation.was_cancelled:
                task.completed_at = now
            task.labeling_count += int(counts_toward_labeled(annotation.was_cancelled, project.skip_queue))
            _note_annotator(task, annotation)
            counters["ground_truth_number"] += int(annotation.ground_truth)
        for raw in item.predictions:
            predictions.append(
                Prediction(
                    id=next_pred,
                    task_id=task.id,
                    project_id=project.id,
                    result=raw["result"],
                    score=raw["score"],
                    model_version=raw["model_version"],
                    created_at=now,
                    updated_at=now,
                )
            )
            task.prediction_ids.append(next_pred)
            next_pred += 1
            if raw["score"] is not None:
                task.prediction_scores[raw["model_version"]] = raw["score"]
        task.total_predictions = len(item.predictions)
        task.is_labeled = task.labeling_count >= overlap
        counters["total_annotations_number"] += task.total_annotations
        counters["skipped_annotations_number"] += task.cancelled_annotations
        counters["num_tasks_with_annotations"] += int(task.total_annotations > 0)
        counters["finished_task_number"] += int(task.is_labeled)
        tasks.append(task)
    try:
        task_store.put_many(tasks, project.model_version)
        annotation_store.put_many(annotations)
        prediction_store.put_many(predictions)
        project_store.add_counters(project.id, **counters)
    except Exception:
        _undo(tasks, annotations, predictions)
        raise
    if predictions and not project.model_version:
        # Label Studio (`tasks/serializers.py` `add_predictions`): a project that showed no version
        # shows the one imported last.
        replace_model_version(project.id, "", predictions[-1].model_version)
    job.first_task_id = first_task_id
    job.status = "completed"
    job.finished_at = utcnow()
    webhooks.tasks_created(project.id, tasks)


def _note_annotator(task: Task, annotation: Annotation) -> None:
    """Who answered the task, and whose answers were all skips (the label stream reads both)."""
    user = annotation.completed_by
    if user is None:
        return
    if user not in task.annotators:
        task.annotators.append(user)
        if annotation.was_cancelled:
            task.skipped_by.append(user)
    elif not annotation.was_cancelled and user in task.skipped_by:
        task.skipped_by.remove(user)


def _undo(tasks: list[Task], annotations: list[Annotation], predictions: list[Prediction]) -> None:
    """Best-effort removal of a failed import's items, so a retry does not leave duplicates."""
    try:
        task_store.delete_many(t.id for t in tasks)
        annotation_store.delete_many(a.id for a in annotations)
        prediction_store.delete_many(p.id for p in predictions)
        if tasks:  # uncounted, but they were in the project's index: its pages moved
            project_store.add_counters(tasks[0].project_id, tasks_removed=len(tasks))
    except Exception:
        logger.exception("could not undo a failed import of %d tasks", len(tasks))


def import_tasks_once(
    user: User,
    project_id: int,
    raw_items,
    *,
    files: FilesRead | None = None,
    return_task_ids: bool,
    idempotency_key: str | None,
    body_digest: str,
    lambda_context=None,
) -> dict:
    """`import_tasks` behind an `Idempotency-Key`: a retry with the same key and body gets the first
    answer back and writes nothing; the same key with another body is a ValidationFailed naming the key."""

    def run() -> dict:
        return import_tasks(user, project_id, raw_items, files).response(return_task_ids)

    if not idempotency_key:
        return run()
    if len(idempotency_key) > 255:
        raise ValidationFailed.field("Idempotency-Key", "Must be at most 255 characters.")
    try:
        return idempotency.run_once(
            "import",
            f"{user.id}:{project_id}:{idempotency_key}",
            body_digest,
            run,
            lambda_context=lambda_context,
        )
    except idempotency.KeyReused:
        raise ValidationFailed.field(
            "Idempotency-Key", "This key was already used for a different import request."
        ) from None
    except idempotency.StillRunning:
        raise Conflict("An import with this Idempotency-Key is still running.") from None
