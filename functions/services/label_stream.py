"""`/api/projects/{id}/next`: hand an annotator the next task, and reserve it for them.

The order of attempts follows Label Studio (`projects/functions/next_task.py`): the task the user
already holds; then the project's sampling queue (Sequential, Uniform, Uncertainty — falling back to
random when no task has a prediction of the project's model version); then, with REQUEUE_FOR_ME, the
user's own skipped tasks. Each attempt is a conditional write, so concurrent callers never share a
task beyond `maximum_annotations`.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass

from functions.domain.errors import NotFound
from functions.domain.label_stream import (
    QUEUE_NAMES,
    SEQUENTIAL,
    UNCERTAINTY,
    UNIFORM,
    QueueEntry,
    available_to,
    expired_holders,
    holds,
    preference_order,
    uncertainty,
)
from functions.domain.records import Project, Task, User
from functions.services import access, ml_predictions, task_media
from functions.services.tasks import TaskView, views
from functions.settings import get_settings
from functions.store import label_queue
from functions.store import projects as project_store
from functions.store import tasks as task_store


@dataclass
class NextTask:
    view: TaskView
    queue: str
    lock_id: str


def next_task(user: User, project_id: int, *, rng: random.Random | None = None) -> NextTask:
    project = access.project_for(user, project_id)
    rng = rng or random.Random()  # noqa: S311 -- task sampling order, not a secret
    now = time.time()
    held = _held(project, user, now)
    if held is not None:
        return _answer(project, user, held, "held")
    expires = now + get_settings().task_lock_seconds
    how = project.sampling  # which queue the task came from, a key of QUEUE_NAMES
    found = _take(project, user, how, now, expires, rng)
    if found is None and how == UNCERTAINTY:
        how = UNIFORM  # LS: no task has a prediction of the current model version -> random
        found = _take(project, user, UNIFORM, now, expires, rng)
    if found is None and project.skip_queue == "REQUEUE_FOR_ME":
        how = "skipped"
        found = _take(project, user, SEQUENTIAL, now, expires, rng, requeued=True)
    if found is None:
        raise NotFound("There are no more tasks for you in this project.")
    label_queue.remember(project.id, user.id, found, expires)
    return _answer(project, user, task_store.get(found, consistent=True), how)


def _held(project: Project, user: User, now: float) -> Task | None:
    pointer = label_queue.held_task(project.id, user.id)
    if pointer is None or pointer[1] <= now:
        return None
    try:
        task = task_store.get(pointer[0], consistent=True)
    except NotFound:
        return None
    return task if not task.is_labeled and holds(task.locks, task.annotators, user.id, now) else None


def _take(
    project: Project,
    user: User,
    sampling: str,
    now: float,
    expires: float,
    rng: random.Random,
    *,
    requeued: bool = False,
) -> int | None:
    pages = label_queue.candidate_pages(
        project.id, sampling, user.id, requeued=requeued, random_start=label_queue.random_start(rng)
    )
    for page in pages:
        for entry in preference_order(
            page, sampling=sampling, maximum_annotations=project.maximum_annotations, now=now, rng=rng
        ):
            if _try(entry, project, user, now, expires, requeued):
                return entry.task_id
    return None


def _try(entry: QueueEntry, project: Project, user: User, now: float, expires: float, requeued: bool) -> bool:
    if not available_to(entry, user.id, now, project.skip_queue, requeued=requeued):
        return False
    return label_queue.acquire(entry, user.id, expires, expired_holders(entry, now), requeued=requeued)


def _answer(project: Project, user: User, task: Task, how: str) -> NextTask:
    view = views([task])[0]
    # The annotator sees their own earlier answers (a requeued skip) but not the others' (LS hides them
    # in the label stream), and predictions only when the project shows them.
    view.annotations = [a for a in view.annotations if a.completed_by == user.id]
    view.predictions = ml_predictions.prelabel(project, view.task, view.predictions)
    view.task = task_media.for_browser(view.task)
    return NextTask(view, QUEUE_NAMES[how], str(uuid.uuid4()))


def refresh_label_queue(project_id: int) -> int:
    """Job: give every task the project's current overlap and Uncertainty-sampling key, and settle
    `is_labeled` (so raising `maximum_annotations` puts labeled tasks back in the queue). Returns the
    change in the number of finished tasks."""
    project = project_store.get(project_id)
    change = 0
    for chunk in task_store.iter_ids(project_id):
        for task in task_store.batch_get(chunk):
            key = uncertainty(task.prediction_scores, project.model_version)
            change += task_store.set_queue_settings(task.id, project.maximum_annotations, key)
    project_store.add_counters(project_id, finished_task_number=change)
    return change
