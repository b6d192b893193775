"""Who may be handed which task next: Label Studio's label-stream rules, on plain data.

A task "needs work" until `labeling_count >= overlap` (`is_labeled`). While it needs work, annotators
take it through leases: a lease is a (user -> expiry) entry on the task, so at most `overlap` people
hold or have finished a task at any time. The skip queue decides whether skips count (LS
`projects/functions/next_task.py`, `tasks/models.py` `has_lock`):

- REQUEUE_FOR_OTHERS: a skip does not count; the task goes back to the others, never to the skipper.
- REQUEUE_FOR_ME: a skip keeps the task held for the skipper, who gets it again once the rest is done.
- IGNORE_SKIPPED: a skip counts like a submission.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from functions.domain.records import Task

SEQUENTIAL, UNIFORM, UNCERTAINTY = "Sequential sampling", "Uniform sampling", "Uncertainty sampling"

# What Label Studio's `/next` answers in its `queue` field for each way a task was found.
QUEUE_NAMES = {
    SEQUENTIAL: "Sequence queue",
    UNIFORM: "Uniform random queue",
    UNCERTAINTY: "Active learning or random queue",
    "held": "Task lock",
    "skipped": "Skipped queue",
}


@dataclass(frozen=True)
class QueueEntry:
    """What the label stream needs to know about a task that still needs work (no task data)."""

    task_id: int
    overlap: int = 1
    total_annotations: int = 0
    cancelled_annotations: int = 0
    locks: dict[int, float] = field(default_factory=dict)  # user id -> lease expiry (epoch seconds)
    annotators: frozenset[int] = frozenset()  # everyone who submitted or skipped
    skipped_by: frozenset[int] = frozenset()  # those whose only answer was a skip
    lease_rev: int = 0


def counts_toward_labeled(was_cancelled: bool, skip_queue: str) -> bool:
    return not was_cancelled or skip_queue == "IGNORE_SKIPPED"


def holders(entry: QueueEntry, user_id: int, now: float, skip_queue: str) -> int:
    """How many of the task's `overlap` places are taken for `user_id`: others' live leases + answers."""
    others = sum(1 for holder, expires in entry.locks.items() if holder != user_id and expires > now)
    answers = entry.total_annotations
    if skip_queue == "IGNORE_SKIPPED":
        answers += entry.cancelled_annotations
    elif skip_queue == "REQUEUE_FOR_ME":
        # Skips hold the task for the skipper, so they count — except the asking user's own.
        answers += entry.cancelled_annotations - int(user_id in entry.skipped_by)
    return others + answers


def available_to(
    entry: QueueEntry, user_id: int, now: float, skip_queue: str, *, requeued: bool = False
) -> bool:
    """May `user_id` take this task now? `requeued`: the user is asking for their own skipped tasks."""
    if user_id in entry.annotators and not (requeued and user_id in entry.skipped_by):
        return False
    return holders(entry, user_id, now, skip_queue) < entry.overlap


def holds(locks: dict[int, float], annotators, user_id: int, now: float) -> bool:
    """Does `user_id` hold a live lease on a task they have not answered yet?"""
    return locks.get(user_id, 0) > now and user_id not in annotators


def expired_holders(entry: QueueEntry, now: float) -> list[int]:
    return [holder for holder, expires in entry.locks.items() if expires <= now]


def preference_order(
    entries: list[QueueEntry],
    *,
    sampling: str,
    maximum_annotations: int,
    now: float,
    rng: random.Random | None = None,
) -> list[QueueEntry]:
    """The order in which to try a page of candidates (already in the sampling index's order).

    With overlap, LS goes breadth first: tasks others have started come before fresh ones, so partly
    labeled tasks finish first. Uncertainty sampling picks at random among the k least certain tasks,
    k = 1 + the number of other people labeling right now (as LS does with its annotator count), so
    concurrent annotators do not all race for one task while a lone annotator gets the strict order.
    """
    ordered = list(entries)
    if sampling == UNCERTAINTY:
        labeling_now = {holder for e in ordered for holder, expires in e.locks.items() if expires > now}
        head = ordered[: 1 + len(labeling_now)]
        (rng or random.Random()).shuffle(head)  # noqa: S311 -- spreads annotators over tasks; no secret
        ordered = head + ordered[len(head) :]
    if maximum_annotations > 1:
        ordered.sort(key=lambda e: -(e.total_annotations + e.cancelled_annotations))
    return ordered


def uncertainty(prediction_scores: dict[str, float], model_version: str) -> float | None:
    """The key Uncertainty sampling orders by: the score of the project's model version, or — while
    the project has not chosen one — the lowest score of any version (least certain first)."""
    if model_version:
        return prediction_scores.get(model_version)
    return min(prediction_scores.values(), default=None)


def entry_of(task: Task) -> QueueEntry:
    """A task as the label stream weighs it."""
    return QueueEntry(
        task_id=task.id,
        overlap=task.overlap,
        total_annotations=task.total_annotations,
        cancelled_annotations=task.cancelled_annotations,
        locks=dict(task.locks),
        annotators=frozenset(task.annotators),
        skipped_by=frozenset(task.skipped_by),
        lease_rev=task.lease_rev,
    )


def progress(tasks: Iterable[Task], user_id: int, skip_queue: str) -> tuple[int, int]:
    """(done, total) of the label stream for one user over `tasks`, as Label Studio
    counts `queue_done` and `queue_total` (`projects/serializers.py`): done is the tasks the user
    answered (not counting skips under REQUEUE_FOR_ME, which come back); total is those, plus the tasks
    still needing work that the user has not answered."""
    done = total = 0
    for task in tasks:
        mine = user_id in task.annotators
        if mine or not task.is_labeled:
            total += 1
        if mine and not (skip_queue == "REQUEUE_FOR_ME" and user_id in task.skipped_by):
            done += 1
    return done, total
