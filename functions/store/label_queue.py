"""The label stream's reads and writes: the sparse queue indexes, leases on tasks, lease pointers.

Every read here is one index page or one item, so `/next` costs the same whatever the project size;
every lease is a conditional write, so two annotators racing for one task cannot both win it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from functions.domain.label_stream import SEQUENTIAL, UNCERTAINTY, UNIFORM, QueueEntry
from functions.store.models import LeaseModel, TaskModel
from functions.store.tasks import QUEUE_RANDOM_RANGE, lease_path

PAGE = 50
_INDEXES = {
    SEQUENTIAL: TaskModel.queue_index,
    UNIFORM: TaskModel.random_queue_index,
    UNCERTAINTY: TaskModel.uncertainty_queue_index,
}


def _entry(item: dict) -> QueueEntry:
    """A queue index item, read straight from DynamoDB's wire form: `/next` reads up to a page of these
    per call, and building a PynamoDB model for each cost more than the rest of the call."""

    def number(name: str, default: int) -> int:
        value = item.get(name)
        return int(value["N"]) if value else default

    def members(name: str) -> frozenset[int]:
        value = item.get(name)
        return frozenset(int(u) for u in value["NS"]) if value else frozenset()

    locks = item.get("locks", {}).get("M", {})
    return QueueEntry(
        task_id=int(item["id"]["N"]),
        overlap=number("overlap", 1),
        total_annotations=number("total_annotations", 0),
        cancelled_annotations=number("cancelled_annotations", 0),
        locks={int(k): float(v["N"]) for k, v in locks.items() if k.isdigit() and "N" in v},
        annotators=members("annotators"),
        skipped_by=members("skipped_by"),
        lease_rev=number("lease_rev", 0),
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
    ranges: list[Condition | None] = [None]
    if sampling == UNIFORM:
        ranges = [TaskModel.queue_random >= random_start, TaskModel.queue_random < random_start]
    for range_condition in ranges:
        yield from _pages(index.Meta.index_name, project_id, range_condition, mine)


def _pages(
    index_name: str, project_id: int, range_condition: Condition | None, filter_condition: Condition
) -> Iterator[list[QueueEntry]]:
    """Pages of PAGE entries (the last one shorter) that pass the filter, one Query per PAGE read."""
    connection = TaskModel._get_connection()
    pending: list[QueueEntry] = []
    start = None
    while True:
        answer = connection.query(
            str(project_id),  # serialized, as Model.query passes it
            range_key_condition=range_condition,
            filter_condition=filter_condition,
            index_name=index_name,
            exclusive_start_key=start,
            limit=PAGE,
        )
        pending += [_entry(item) for item in answer.get("Items", [])]
        while len(pending) >= PAGE:
            yield pending[:PAGE]
            pending = pending[PAGE:]
        start = answer.get("LastEvaluatedKey")
        if not start:
            break
    if pending:
        yield pending


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


def release(task_id: int, user_id: int) -> None:
    """End the user's lease on a task they no longer work on (the stream moved them to another one), so
    the task goes back to the others at once rather than when the lease expires."""
    try:
        TaskModel(task_id).update(
            actions=[lease_path(user_id).remove(), TaskModel.lease_rev.add(1)],
            condition=TaskModel.id.exists(),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
