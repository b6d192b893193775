"""A child write that fails must leave its task's counters as they were (the store's compensation)."""

from __future__ import annotations

import pytest

from functions.domain.errors import Conflict, NotFound
from functions.domain.records import Annotation, Project, Task
from functions.store import annotations as annotation_store
from functions.store import projects as project_store
from functions.store import tasks as task_store


def test_failed_annotation_write_undoes_the_task_update(aws):
    project_store.create(Project(id=1, title="p", created_by=1))
    task_store.create(Task(id=10, project_id=1, data={"text": "a"}))
    first = Annotation(id=100, task_id=10, project_id=1, result=[])
    counters = {"task_counters": {"total_annotations": 1}, "task_is_labeled": True,
                "project_counters": {"total_annotations_number": 1}}
    annotation_store.insert(first, expected_task_counts=(0, 0), **counters)
    assert task_store.get(10).annotation_ids == [100]

    # An annotation 101 already stored elsewhere: the task update passes its condition, then the
    # annotation's existence check fails and the task update must be undone.
    annotation_store.put_many([Annotation(id=101, task_id=99, project_id=1, result=[])])
    with pytest.raises(Conflict):
        annotation_store.insert(Annotation(id=101, task_id=10, project_id=1, result=[]),
                                expected_task_counts=(1, 0), task_counters={"total_annotations": 1},
                                task_is_labeled=None, project_counters={"total_annotations_number": 1})
    # The same id twice on one task is refused before anything is written.
    with pytest.raises(Conflict):
        annotation_store.insert(first, expected_task_counts=(1, 0), task_counters={"total_annotations": 1},
                                task_is_labeled=None, project_counters={"total_annotations_number": 1})
    task = task_store.get(10)
    assert task.total_annotations == 1 and task.annotation_ids == [100] and task.is_labeled
    assert project_store.get(1).total_annotations_number == 1


def test_stale_task_counts_are_a_conflict_and_write_nothing(aws):
    project_store.create(Project(id=1, title="p", created_by=1))
    task_store.create(Task(id=10, project_id=1, data={"text": "a"}, total_annotations=1))
    with pytest.raises(Conflict):
        annotation_store.insert(Annotation(id=101, task_id=10, project_id=1, result=[]),
                                expected_task_counts=(0, 0), task_counters={"total_annotations": 1},
                                task_is_labeled=True, project_counters={"total_annotations_number": 1})
    with pytest.raises(NotFound):
        annotation_store.get(101)
    assert task_store.get(10).total_annotations == 1
