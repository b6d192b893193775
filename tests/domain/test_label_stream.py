"""The label stream's rules on plain data: who holds a task, per skip queue, and the order of attempts."""

from __future__ import annotations

import random

from functions.domain.label_stream import (
    UNCERTAINTY,
    QueueEntry,
    available_to,
    counts_toward_labeled,
    expired_holders,
    holds,
    preference_order,
    uncertainty,
)

NOW = 1_000.0


def test_live_leases_of_others_and_answers_fill_the_overlap():
    entry = QueueEntry(task_id=1, overlap=2, total_annotations=1, locks={7: NOW + 10})
    assert not available_to(entry, 8, NOW, "REQUEUE_FOR_OTHERS")
    assert available_to(entry, 7, NOW, "REQUEUE_FOR_OTHERS")  # 7's own lease does not block 7
    expired = QueueEntry(task_id=1, overlap=2, total_annotations=1, locks={7: NOW - 1})
    assert available_to(expired, 8, NOW, "REQUEUE_FOR_OTHERS") and expired_holders(expired, NOW) == [7]


def test_skips_count_per_skip_queue():
    skipped = QueueEntry(
        task_id=1, overlap=1, cancelled_annotations=1, annotators=frozenset({7}), skipped_by=frozenset({7})
    )
    assert available_to(skipped, 8, NOW, "REQUEUE_FOR_OTHERS")
    assert not available_to(skipped, 8, NOW, "REQUEUE_FOR_ME")  # held for the skipper
    assert not available_to(skipped, 7, NOW, "REQUEUE_FOR_ME")  # not in the main queue...
    assert available_to(skipped, 7, NOW, "REQUEUE_FOR_ME", requeued=True)  # ...but in the skipped one
    assert not available_to(skipped, 8, NOW, "IGNORE_SKIPPED")
    assert counts_toward_labeled(True, "IGNORE_SKIPPED") and not counts_toward_labeled(True, "REQUEUE_FOR_ME")


def test_a_user_never_gets_a_task_they_answered_and_holds_only_their_live_lease():
    answered = QueueEntry(task_id=1, overlap=3, annotators=frozenset({7}), locks={7: NOW + 5})
    assert not available_to(answered, 7, NOW, "REQUEUE_FOR_OTHERS")
    assert not holds(answered.locks, answered.annotators, 7, NOW)
    assert holds({7: NOW + 5}, frozenset(), 7, NOW)


def test_breadth_first_with_overlap_and_a_strict_order_for_a_lone_uncertainty_annotator():
    fresh, started = QueueEntry(task_id=1, overlap=2), QueueEntry(task_id=2, overlap=2, total_annotations=1)
    order = preference_order([fresh, started], sampling="Sequential sampling", maximum_annotations=2, now=NOW)
    assert [e.task_id for e in order] == [2, 1]
    entries = [QueueEntry(task_id=i) for i in range(5)]
    alone = preference_order(
        entries, sampling=UNCERTAINTY, maximum_annotations=1, now=NOW, rng=random.Random(1)
    )
    assert [e.task_id for e in alone] == [0, 1, 2, 3, 4]
    busy = [QueueEntry(task_id=i, locks={100 + i: NOW + 60}) for i in range(5)]
    firsts = {
        preference_order(busy, sampling=UNCERTAINTY, maximum_annotations=1, now=NOW, rng=random.Random(seed))[
            0
        ].task_id
        for seed in range(30)
    }
    assert len(firsts) > 1  # others are labeling: spread out over the least certain tasks


def test_uncertainty_key_is_the_model_versions_score_or_the_lowest():
    assert uncertainty({"v1": 0.9, "v2": 0.3}, "v1") == 0.9
    assert uncertainty({"v1": 0.9, "v2": 0.3}, "") == 0.3
    assert uncertainty({"v1": 0.9}, "v3") is None and uncertainty({}, "") is None
