"""Bulk writes: the fast serializer must write exactly what PynamoDB would, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest

from functions.domain.records import Task
from functions.settings import get_settings
from functions.store import bulk
from functions.store import tasks as task_store
from functions.store.models import TaskModel

NOW = dt.datetime(2026, 12, 3, 12, 30, 15, 123456, tzinfo=dt.UTC)

TASKS = [
    Task(id=1, project_id=7, data={"text": "plain"}, created_at=NOW, updated_at=NOW),
    Task(
        id=2,
        project_id=7,
        data={"image": "s3://b/k.png", "nested": {"a": [1, 2.5, None, True]}},
        meta={"source": "csv", "row": 3},
        inner_id=2,
        overlap=3,
        is_labeled=True,
        total_annotations=3,
        cancelled_annotations=1,
        total_predictions=2,
        annotation_ids=[11, 12, 13],
        prediction_ids=[21, 22],
        annotators=[4, 5],
        skipped_by=[6],
        prediction_scores={"v1": 0.25, "v2": 1.0},
        created_at=NOW,
        updated_at=NOW,
        updated_by=4,
        completed_at=NOW,
        version=5,
    ),
    Task(id=3, project_id=7, data={"text": "ünïcödé ✓", "n": 10**20}, created_at=NOW, updated_at=NOW),
]


@pytest.mark.parametrize("task", TASKS, ids=lambda t: f"task{t.id}")
def test_wire_item_is_what_pynamodb_serializes(aws, task):
    values = task_store.item_values(task, model_version="v1")
    expected = TaskModel(values["id"], **{k: v for k, v in values.items() if k != "id"}).serialize()
    assert bulk.wire_item(TaskModel, values) == expected


def test_a_required_attribute_left_out_is_refused(aws):
    values = task_store.item_values(TASKS[0])
    values["created_at"] = None
    with pytest.raises(ValueError, match="created_at"):
        bulk.wire_item(TaskModel, values)


def test_put_many_writes_tasks_that_read_back_equal(aws, monkeypatch):
    monkeypatch.setattr(bulk, "BATCHES_PER_COMMIT", 2)  # several commit groups and a partial batch
    big = {"text": "x" * (get_settings().offload_bytes + 10)}
    tasks = [
        *TASKS,
        *(Task(id=i, project_id=7, data={"i": i}, created_at=NOW, updated_at=NOW) for i in range(100, 180)),
        Task(id=500, project_id=7, data=big, created_at=NOW, updated_at=NOW),
    ]
    assert task_store.put_many(tasks) == len(tasks)
    got = {t.id: t for t in task_store.batch_get([t.id for t in tasks])}
    for task in tasks:
        assert got[task.id].data == task.data
        assert got[task.id].meta == task.meta
        assert got[task.id].annotation_ids == sorted(task.annotation_ids)
        assert got[task.id].prediction_scores == task.prediction_scores
    assert task_store.page_ids(7, 0, 1000) == sorted(t.id for t in tasks)


def _model_values(item) -> dict:
    """What PynamoDB's own read sets: every attribute's value, raw maps as plain dicts."""
    return {
        name: getattr(item, name).as_dict()
        if hasattr(getattr(item, name), "as_dict")
        else getattr(item, name)
        for name in type(item).get_attributes()
    }


@pytest.mark.parametrize("task", TASKS, ids=lambda t: f"task{t.id}")
def test_plain_reads_are_what_pynamodb_reads(aws, task):
    task_store.put_many([task])
    with_lock = TaskModel.get(task.id)
    with_lock.update(actions=[TaskModel.locks["7"].set(1765000000.5)])  # a map holding a float
    expected = _model_values(TaskModel.get(task.id))
    assert vars(TaskModel.get_plain(task.id)) == expected
    assert [vars(t) for t in TaskModel.batch_get_plain([task.id, 999])] == [expected]
    assert task_store.get(task.id).locks == {7: 1765000000.5}


def test_plain_reads_of_missing_or_unreachable_keys_find_nothing(aws):
    with pytest.raises(TaskModel.DoesNotExist):
        TaskModel.get_plain(404)
    with pytest.raises(TaskModel.DoesNotExist):
        TaskModel.get_plain(10**40)
    assert list(TaskModel.batch_get_plain([404, 10**40])) == []


def test_plain_values_of_every_map_type():
    typed = {
        "M": {
            "s": {"S": "x"},
            "n": {"N": "1.5"},
            "i": {"N": "7"},
            "b": {"BOOL": False},
            "z": {"NULL": True},
            "l": {"L": [{"N": "1"}, {"S": "a"}]},
            "ss": {"SS": ["a", "b"]},
            "ns": {"NS": ["1", "2.5"]},
        }
    }
    assert bulk.plain_value(typed) == {
        "s": "x",
        "n": 1.5,
        "i": 7,
        "b": False,
        "z": None,
        "l": [1, "a"],
        "ss": {"a", "b"},
        "ns": {1, 2.5},
    }
