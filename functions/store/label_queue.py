"""The label stream's reads and writes: the sparse queue indexes, leases on tasks, lease pointers.

Every read here is one index page or one item, so `/next` costs the same whatever the project size;
every lease is a conditional write, so two annotators racing for one task cannot both win it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from functions.domain.label_stream import SEQUENTIAL, UNCERTAINTY, UNIFORM, QueueEntry
from functions.store.models import LeaseModel, TaskModel
from functions.store.tasks import QUEUE_RANDOM_RANGE, lease_path, read_locks

PAGE = 50
_INDEXES = {
    SEQUENTIAL: TaskModel.queue_index,
    UNIFORM: TaskModel.random_queue_index,
    UNCERTAINTY: TaskModel.uncertainty_queue_index,
}


def _entry(item: TaskModel) -> QueueEntry:
    return QueueEntry(
        task_id=int(item.id),
        overlap=int(item.overlap or 1),
        total_annotations=int(item.total_annotations or 0),
        cancelled_annotations=int(item.cancelled_annotations or 0),
        locks=read_locks(item.locks),
        annotators=frozenset(int(u) for u in item.annotators or ()),
        skipped_by=frozenset(int(u) for u in item.skipped_by or ()),
        lease_rev=int(item.lease_rev or 0),
    )


def candidate_pages(
    project_id: int, sampling: str, user_id: int, *, requeued: bool = False, random_start: int = 0
) -> Iterator[list[QueueEntry]]:
    """Tasks still needing work, in the sampling order, a page at a time, read lazily.

    The user's own answers are filtered out by DynamoDB (`requeued`: only their skipped tasks are kept).
    Uniform sampling reads the random-order index from `random_start` round to where it began.
    """
    mine = TaskModel.skipped_by.contains(user_id) if requeued else ~TaskModel.annotators.contains(user_id)
    index = _INDEXES[sampling]
    if sampling == UNIFORM:
        queries = [
            index.query(
                project_id, TaskModel.queue_random >= random_start, filter_condition=mine, page_size=PAGE
            ),
            index.query(
                project_id, TaskModel.queue_random < random_start, filter_condition=mine, page_size=PAGE
            ),
        ]
    else:
        queries = [index.query(project_id, filter_condition=mine, page_size=PAGE)]
    for query in queries:
        items = iter(query)
        while page := [_entry(item) for item in islice(items, PAGE)]:
            yield page


def random_start(rng) -> int:
    return rng.randrange(QUEUE_RANDOM_RANGE)


def acquire(
    entry: QueueEntry, user_id: int, expires: float, expired: list[int], *, requeued: bool = False
) -> bool:
    """Lease the task to `user_id` if it is still as `entry` saw it; False if someone got there first.

    The condition pins the lease revision and the answer counts, so neither another lease nor a late
    submission can slip in between the decision and the write. Expired leases are dropped on the way.
    """
    actions: list[Action] = [lease_path(user_id).set(expires), TaskModel.lease_rev.add(1)]
    actions += [lease_path(holder).remove() for holder in expired if holder != user_id]
    condition = (
        (TaskModel.lease_rev == entry.lease_rev)
        & (TaskModel.total_annotations == entry.total_annotations)
        & (TaskModel.cancelled_annotations == entry.cancelled_annotations)
        & TaskModel.queue_project.exists()
    )
    if requeued:
        condition &= TaskModel.skipped_by.contains(user_id)
    else:
        condition &= ~TaskModel.annotators.contains(user_id)
    try:
        TaskModel(entry.task_id).update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def held_task(project_id: int, user_id: int) -> tuple[int, float] | None:
    """(task id, expiry) of the lease the user was last given in the project, if any."""
    try:
        pointer = LeaseModel.get(project_id, user_id)
    except LeaseModel.DoesNotExist:
        return None
    return int(pointer.task_id), pointer.expires_at.timestamp()


def remember(project_id: int, user_id: int, task_id: int, expires: float) -> None:
    LeaseModel(project_id, user_id, task_id=task_id, expires_at=datetime.fromtimestamp(expires, UTC)).save()
