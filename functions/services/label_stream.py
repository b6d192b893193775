"""`/api/projects/{id}/next`: hand an annotator the next task, and reserve it for them.

The order of attempts follows Label Studio (`projects/functions/next_task.py`): the task the user
already holds; then the project's sampling queue (Sequential, Uniform, Uncertainty — falling back to
random when no task has a prediction of the project's model version); then, with REQUEUE_FOR_ME, the
user's own skipped tasks. Each attempt is a conditional write, so concurrent callers never share a
task beyond `maximum_annotations`.

A stream may be held to some of the tasks, as Label Studio's is by a Data Manager view (`?view=`, or a
query): the candidates are then the view's tasks, in its order, read as the Data Manager reads them
(linear in the project's size, as a filter over task data must be). "Label tasks as displayed" sends the
view's filters and ordering (Label Studio's "data manager queue"): it takes the first task of the view
the user may have, whatever the sampling. The same rules decide who may have a task, and the same
conditional write takes it.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass

from functions.domain.drafts import Draft
from functions.domain.errors import NotFound
from functions.domain.label_stream import (
    QUEUE_NAMES,
    SEQUENTIAL,
    UNCERTAINTY,
    UNIFORM,
    QueueEntry,
    available_to,
    entry_of,
    expired_holders,
    holds,
    preference_order,
    progress,
    uncertainty,
)
from functions.domain.records import Project, Task, User
from functions.domain.task_query import TaskQuery
from functions.services import (
    access,
    data_manager,
    dm_views,
    drafts,
    ml_predictions,
    stream_history,
    task_media,
)
from functions.services.tasks import TaskView, views
from functions.settings import get_settings
from functions.store import label_queue
from functions.store import projects as project_store
from functions.store import tasks as task_store

DM_QUEUE = "Data manager queue"  # Label Studio's name for a stream in a view's order
NO_MORE = "There are no more tasks for you in this project."


@dataclass
class NextTask:
    view: TaskView
    queue: str
    lock_id: str
    drafts: list[Draft]  # the caller's, given back with the task
    project: Project
    task: Task  # as stored (`view.task` is as the browser reads it)
    # False when `next_task(ask_model=False)` left the predictions to `prelabel`, as a model may be asked.
    prelabeled: bool = True


def next_task(
    user: User,
    project_id: int,
    *,
    rng: random.Random | None = None,
    scope: TaskQuery | None = None,
    dm_queue: bool = False,
    ask_model: bool = True,
) -> NextTask:
    """The user's next task: from the sampling queues, or, with `scope`, among the tasks it selects
    (`dm_queue`: the first of them in its order the user may have). Without `ask_model`, no ML backend
    is asked for a prediction here (the call then only reads and writes the store): a task that one may
    be asked for comes back `prelabeled=False`, for `prelabel`."""
    project = access.project_for(user, project_id)
    rng = rng or random.Random()  # noqa: S311 -- task sampling order, not a secret
    if scope is not None and (dm_queue or not scope.is_default):
        return _next_in_scope(project, user, scope, dm_queue, rng, ask_model)
    now = time.time()
    held = _held(project, user, now)
    if held is not None:
        return _answer(project, user, held, "held", ask_model)
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
        raise NotFound(NO_MORE)
    label_queue.remember(project.id, user.id, found, expires)
    return _answer(project, user, task_store.get(found, consistent=True), how, ask_model)


def _next_in_scope(
    project: Project, user: User, scope: TaskQuery, dm_queue: bool, rng: random.Random, ask_model: bool
) -> NextTask:
    now = time.time()
    expires = now + get_settings().task_lock_seconds
    tasks = data_manager.select(project.id, scope)
    if not dm_queue:
        held = _held(project, user, now)
        if held is not None and any(t.id == held.id for t in tasks):
            return _answer(project, user, held, "held", ask_model)
    # Label Studio's candidates: the view's tasks still needing work (labeled ones are left out).
    open_tasks = [t for t in tasks if not t.is_labeled]
    if dm_queue:
        how, ordered = DM_QUEUE, [entry_of(t) for t in open_tasks]
    else:
        how, ordered = _sampled(project, open_tasks, now, rng)
    found = _first_taken(ordered, project, user, now, expires, requeued=False)
    if found is None and project.skip_queue == "REQUEUE_FOR_ME":
        how = "skipped"
        found = _first_taken([entry_of(t) for t in open_tasks], project, user, now, expires, requeued=True)
    if found is None:
        raise NotFound(NO_MORE)
    before = label_queue.held_task(project.id, user.id)
    if before is not None and before[0] != found and before[1] > now:
        label_queue.release(before[0], user.id)  # one held task per user and project, as before
    label_queue.remember(project.id, user.id, found, expires)
    return _answer(project, user, task_store.get(found, consistent=True), how, ask_model)


def _sampled(
    project: Project, tasks: list[Task], now: float, rng: random.Random
) -> tuple[str, list[QueueEntry]]:
    """The view's tasks in the order the project's sampling tries them: Sequential keeps the view's
    order; Uniform shuffles; Uncertainty takes those with a score of the model version, least certain
    first (none: random, as Label Studio falls back)."""
    how = project.sampling
    if how == UNCERTAINTY:
        keyed = [(uncertainty(t.prediction_scores, project.model_version), t) for t in tasks]
        scored = sorted(((k, t.id, t) for k, t in keyed if k is not None), key=lambda x: (x[0], x[1]))
        if scored:
            tasks = [t for _, _, t in scored]
        else:
            how = UNIFORM
    if how == UNIFORM:
        tasks = list(tasks)
        rng.shuffle(tasks)
    entries = [entry_of(t) for t in tasks]
    return how, preference_order(
        entries, sampling=how, maximum_annotations=project.maximum_annotations, now=now, rng=rng
    )


def _first_taken(
    entries: list[QueueEntry], project: Project, user: User, now: float, expires: float, *, requeued: bool
) -> int | None:
    for entry in entries:
        if _try(entry, project, user, now, expires, requeued):
            return entry.task_id
    return None


def next_from_data_manager(user: User, project_id: int, body: dict, view_id: int | None) -> NextTask:
    """Label Studio's `next_task` Data Manager action (what its label stream calls): the tasks of the
    query in the body, or of the view; when the body carries filters, ordering or a selection (Label
    Studio's "data manager queue", as "Label tasks as displayed" sends), the first of them in their
    order that the caller may have, whatever the project's sampling."""
    project = access.project_for(user, project_id)
    scope = dm_views.scope(user, project, body, view_id)
    dm_queue = any(body.get(key) for key in ("filters", "ordering", "selectedItems"))
    return next_task(user, project.id, scope=scope, dm_queue=dm_queue)


def stream_progress(user: User, project_id: int, scope: TaskQuery | None = None) -> tuple[int, int]:
    """(done, total) of the user's label stream over the project, or the tasks `scope` selects, as
    Label Studio counts `queue_done` and `queue_total`. Reads every task of the project (or of the
    selection): linear in its size, so the web UI asks once when the stream opens."""
    project = access.project_for(user, project_id)
    tasks = data_manager.select(project.id, scope or TaskQuery())
    return progress(tasks, user.id, project.skip_queue)


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


def _answer(project: Project, user: User, task: Task, how: str, ask_model: bool) -> NextTask:
    view = views([task])[0]
    # The annotator sees their own earlier answers (a requeued skip) but not the others' (LS hides them
    # in the label stream), and predictions only when the project shows them.
    view.annotations = [a for a in view.annotations if a.completed_by == user.id]
    found = NextTask(
        view,
        QUEUE_NAMES.get(how, how),
        str(uuid.uuid4()),
        drafts.mine(user, task),
        project,
        view.task,
        prelabeled=False,
    )
    if ask_model or not ml_predictions.may_ask_a_backend(project):
        prelabel(found)
    view.task = task_media.for_browser(view.task)
    stream_history.handed_out(project.id, user.id, task.id)
    return found


def prelabel(found: NextTask) -> NextTask:
    """The predictions shown with the task, as the project chooses them (a connected model may be asked
    for one: this may wait on the network)."""
    view = found.view
    view.predictions = ml_predictions.prelabel(found.project, found.task, view.predictions)
    found.prelabeled = True
    return found


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
