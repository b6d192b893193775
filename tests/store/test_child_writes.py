"""Child writes: counters move atomically, a failed child write is undone, labeling settles once."""

from __future__ import annotations

import pytest

from functions.domain.errors import Conflict
from functions.domain.records import Annotation, Project, Task
from functions.store import annotations as annotation_store
from functions.store import projects as project_store
from functions.store import tasks as task_store


def test_failed_annotation_write_undoes_the_task_update(aws):
    project_store.create(Project(id=1, title="p", created_by=1))
    task_store.create(Task(id=10, project_id=1, data={"text": "a"}))
    first = Annotation(id=100, task_id=10, project_id=1, result=[], completed_by=7)
    annotation_store.insert(first, counts_toward_labeled=True)
    task = task_store.get(10)
    assert task.annotation_ids == [100] and task.is_labeled and task.annotators == [7]

    # An annotation 101 already stored elsewhere: the task update passes its condition, then the
    # annotation's existence check fails and the task update must be undone.
    annotation_store.put_many([Annotation(id=101, task_id=99, project_id=1, result=[])])
    with pytest.raises(Conflict):
        annotation_store.insert(
            Annotation(id=101, task_id=10, project_id=1, result=[]), counts_toward_labeled=True
        )
    # The same id twice on one task is refused before anything is written.
    with pytest.raises(Conflict):
        annotation_store.insert(first, counts_toward_labeled=True)
    task = task_store.get(10)
    assert (task.total_annotations, task.labeling_count, task.annotation_ids) == (1, 1, [100])
    project = project_store.get(1)
    assert (project.total_annotations_number, project.finished_task_number) == (1, 1)


def test_removing_the_last_answer_unlabels_the_task_and_requeues_it(aws):
    project_store.create(Project(id=1, title="p", created_by=1))
    task_store.create(Task(id=10, project_id=1, data={"text": "a"}, overlap=2))
    a = Annotation(id=100, task_id=10, project_id=1, result=[], completed_by=7)
    b = Annotation(id=101, task_id=10, project_id=1, result=[], completed_by=8, was_cancelled=True)
    annotation_store.insert(a, counts_toward_labeled=True)
    annotation_store.insert(b, counts_toward_labeled=True)  # a skip that counts (IGNORE_SKIPPED)
    task = task_store.get(10)
    assert task.is_labeled and task.skipped_by == [8] and task.annotators == [7, 8]
    assert task_store.TaskModel.get(10).queue_project is None

    annotation_store.remove(b, counts_toward_labeled=True, others=[a])
    task = task_store.get(10)
    assert not task.is_labeled and task.annotators == [7] and task.skipped_by == []
    assert task_store.TaskModel.get(10).queue_project == 1
    project = project_store.get(1)
    assert (
        project.finished_task_number,
        project.skipped_annotations_number,
        project.num_tasks_with_annotations,
    ) == (0, 0, 1)
