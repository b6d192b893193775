"""The label stream's history and progress rules, on plain data."""

from __future__ import annotations

from functions.domain import stream_history
from functions.domain.label_stream import progress
from functions.domain.records import Task


def test_a_task_is_listed_once_and_only_the_latest_entries_are_kept():
    entries: list[dict] = []
    for task_id in (1, 2, 1, 3):
        entries = stream_history.with_task(entries, task_id, limit=2)
    assert entries == [{"taskId": 2, "annotationId": None}, {"taskId": 3, "annotationId": None}]
    assert len(stream_history.with_task([], 1)) == 1 and stream_history.LIMIT == 100


def test_an_answer_is_noted_on_its_task_only():
    entries = [{"taskId": 1, "annotationId": None}, {"taskId": 2, "annotationId": None}]
    assert stream_history.with_annotation(entries, 2, 9) == [
        {"taskId": 1, "annotationId": None},
        {"taskId": 2, "annotationId": 9},
    ]
    assert stream_history.with_annotation(entries, 5, 9) == entries


def test_deleted_tasks_and_annotations_drop_out():
    entries = [{"taskId": 1, "annotationId": 7}, {"taskId": 2, "annotationId": 8}]
    assert stream_history.existing(entries, {1, 2}, {8}) == [
        {"taskId": 1, "annotationId": None},
        {"taskId": 2, "annotationId": 8},
    ]
    assert stream_history.existing(entries, {2}, {7, 8}) == [{"taskId": 2, "annotationId": 8}]


def _task(task_id, *, labeled=False, annotators=(), skipped_by=()):
    return Task(
        id=task_id,
        project_id=1,
        data={},
        is_labeled=labeled,
        annotators=list(annotators),
        skipped_by=list(skipped_by),
    )


def test_progress_counts_as_label_studio_counts_the_queue():
    tasks = [
        _task(1, labeled=True, annotators=[5]),  # mine, done
        _task(2, labeled=True, annotators=[6]),  # someone else's: not in my stream
        _task(3, annotators=[5], skipped_by=[5]),  # my skip
        _task(4),  # still to do
    ]
    assert progress(tasks, 5, "REQUEUE_FOR_OTHERS") == (2, 3)
    assert progress(tasks, 5, "REQUEUE_FOR_ME") == (1, 3)  # the skip comes back: not done
    assert progress(tasks, 6, "REQUEUE_FOR_OTHERS") == (1, 3)
