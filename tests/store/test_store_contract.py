"""The store's contract, held on both engines (tests/store/conftest.py runs each test on `sqlite` and on
`dynamodb`): ids, pages in order, sparse queue indexes, leases, counters, conditional and versioned writes,
offloaded blobs, the annotations stream and deletes. Services rely on exactly these; an engine that
passes them can carry the API."""

from __future__ import annotations

import json
import threading
import time

import pytest

from functions.domain.errors import Conflict, NotFound
from functions.domain.label_stream import SEQUENTIAL, UNIFORM
from functions.domain.records import Annotation, Project, Task, utcnow
from functions.settings import get_settings
from functions.store import annotations as annotation_store
from functions.store import ids, label_queue
from functions.store import projects as project_store
from functions.store import tasks as task_store


def _project(project_id: int) -> Project:
    return project_store.create(Project(id=project_id, title=f"p{project_id}", created_by=1))


def _tasks(project_id: int, task_ids, **fields) -> list[Task]:
    tasks = [Task(id=i, project_id=project_id, data={"text": f"t{i}"}, **fields) for i in task_ids]
    task_store.put_many(tasks)
    return tasks


def test_ids_are_reserved_in_ranges_that_never_overlap(aws):
    first = ids.reserve("task", 1000)
    second = ids.reserve("task", 1)
    assert second == first + 1000
    assert ids.reserve("annotation", 5) == 1  # one counter per name
    with pytest.raises(ValueError, match="at least 1"):
        ids.reserve("task", 0)


def test_pages_come_in_id_order_and_never_mix_projects(aws):
    _project(1)
    _project(2)
    # Interleaved ids across two projects, written out of order.
    _tasks(1, range(1000, 1250, 2))
    _tasks(2, range(1001, 1250, 2))
    mine = list(range(1000, 1250, 2))
    assert task_store.page_ids(1, 0, 50) == mine[:50]
    assert task_store.page_ids(1, 100, 50) == mine[100:125]
    assert task_store.page_ids(1, 125, 50) == []
    assert [i for chunk in task_store.iter_ids(2) for i in chunk] == list(range(1001, 1250, 2))
    assert [len(c) for c in task_store.iter_ids(1)] == [100, 25]
    got = task_store.batch_get([1248, 5, 1000])  # the order asked, missing ones left out
    assert [t.id for t in got] == [1248, 1000]


def test_page_bookmarks_make_a_page_walk_count_only_from_the_page_before(aws, monkeypatch):
    """A client walking pages 1, 2, 3…: each page starts from where the one before ended, whatever the
    page number; a task set that changed (a removal, an addition) starts over and pages stay exact."""
    monkeypatch.setattr(task_store, "INDEX_SETTLE_SECONDS", 0.0)  # moto's index, like sqlite's, is current
    _project(1)
    _project(2)
    _tasks(1, range(1, 2001))
    _tasks(2, range(5001, 5101))
    counted: list[int] = []
    connection = type(task_store.TaskModel._get_connection())
    real_query = connection.query

    def query(self, *args, select=None, limit=None, **kwargs):
        if select == "COUNT":
            counted.append(limit)
        return real_query(self, *args, select=select, limit=limit, **kwargs)

    monkeypatch.setattr(connection, "query", query)
    walk = [task_store.page_ids(1, offset, 100, (2000, 0)) for offset in range(0, 2000, 100)]
    assert [i for page in walk for i in page] == list(range(1, 2001))
    assert counted == []  # every page after the first started at the end of the page before
    assert task_store.page_ids(1, 1500, 100, (2000, 0)) == list(range(1501, 1601))  # a page seen before
    assert task_store.page_ids(1, 1550, 10, (2000, 0)) == list(range(1551, 1561))
    assert counted == [50]  # from the nearest bookmark (1500), not from 0
    # Another generation: task 3 removed, so every later page moved by one.
    task_store.delete(3)
    assert task_store.page_ids(1, 1500, 100, (1999, 1)) == list(range(1502, 1602))
    assert counted[-1] == 1500
    # An import of tasks with ids below the bookmarks (ranges reserved earlier, written later).
    _tasks(1, [0])
    assert task_store.page_ids(1, 1500, 100, (2000, 1)) == list(range(1501, 1601))
    assert task_store.page_ids(2, 50, 10, (100, 0)) == list(range(5051, 5061))  # other projects apart
    assert task_store.page_ids(1, 1500, 100) == list(range(1501, 1601))  # no generation: no bookmarks


def test_the_queue_index_is_sparse_and_follows_labeling(aws):
    _project(1)
    _tasks(1, range(1, 6))
    first_page = next(label_queue.candidate_pages(1, SEQUENTIAL, user_id=9))
    assert [e.task_id for e in first_page] == [1, 2, 3, 4, 5]
    annotation_store.insert(
        Annotation(id=100, task_id=2, project_id=1, result=[], completed_by=7), counts_toward_labeled=True
    )
    # Task 2 is labeled (overlap 1): gone from the queue for everyone.
    assert [e.task_id for e in next(label_queue.candidate_pages(1, SEQUENTIAL, user_id=9))] == [1, 3, 4, 5]
    uniform = [e.task_id for page in label_queue.candidate_pages(1, UNIFORM, 9, random_start=0) for e in page]
    assert sorted(uniform) == [1, 3, 4, 5]


def test_a_lease_is_won_once_and_pins_what_the_reader_saw(aws):
    _project(1)
    _tasks(1, [1])
    entry = next(label_queue.candidate_pages(1, SEQUENTIAL, user_id=7))[0]
    expires = time.time() + 60
    assert label_queue.acquire(entry, 7, expires, [])
    # A second reader deciding on the same view of the task loses: the lease revision moved.
    assert not label_queue.acquire(entry, 8, expires, [])
    fresh = next(label_queue.candidate_pages(1, SEQUENTIAL, user_id=8))[0]
    assert fresh.locks == {7: pytest.approx(expires)} and fresh.lease_rev == entry.lease_rev + 1
    label_queue.remember(1, 7, 1, expires)
    held = label_queue.held_task(1, 7)
    assert held is not None and held[0] == 1 and held[1] == pytest.approx(expires, abs=1)
    assert label_queue.held_task(1, 8) is None


def test_versioned_writes_refuse_a_stale_version(aws):
    _project(1)
    task_store.create(Task(id=1, project_id=1, data={"text": "a"}))
    with pytest.raises(Conflict):
        task_store.create(Task(id=1, project_id=1, data={"text": "again"}))
    saved = task_store.update_fields(1, {"data": {"text": "b"}}, expected_version=0)
    assert saved.version == 1 and saved.data == {"text": "b"}
    with pytest.raises(Conflict):
        task_store.update_fields(1, {"data": {"text": "c"}}, expected_version=0)
    assert task_store.get(1).data == {"text": "b"}
    with pytest.raises(NotFound):
        task_store.update_fields(404, {"meta": {}})
    before, after = project_store.update_settings(1, {"title": "renamed"}, expected_version=0)
    assert (before.title, before.version, after.title, after.version) == ("p1", 0, "renamed", 1)
    with pytest.raises(Conflict):
        project_store.update_settings(1, {"title": "stale"}, expected_version=0)
    with pytest.raises(NotFound):
        project_store.update_settings(404, {"title": "gone"})
    assert project_store.get(1).title == "renamed"


def test_a_change_sets_only_the_fields_it_carries(aws):
    """No read-modify-write: a change written from an old view of the item keeps what others changed."""
    _project(1)
    project_store.update_settings(1, {"color": "#00FF00"})
    _, after = project_store.update_settings(1, {"description": "d", "maximum_annotations": 3})
    assert (after.color, after.description, after.maximum_annotations) == ("#00FF00", "d", 3)
    stored = project_store.get(1)
    assert (stored.color, stored.description, stored.maximum_annotations, stored.version) == (
        "#00FF00",
        "d",
        3,
        2,
    )
    # `unchanged`: written only while the value a derived one came from is still stored.
    with pytest.raises(Conflict):
        project_store.update_settings(1, {"sampling": "Uniform sampling"}, unchanged={"color": "#FFFFFF"})
    project_store.update_settings(1, {"sampling": "Uniform sampling"}, unchanged={"color": "#00FF00"})
    assert project_store.get(1).sampling == "Uniform sampling"

    task_store.create(Task(id=1, project_id=1, data={"text": "a"}))
    task_store.update_fields(1, {"meta": {"m": 1}})
    task = task_store.update_fields(1, {"data": {"text": "b"}})
    assert (task.data, task.meta, task.version) == ({"text": "b"}, {"m": 1}, 2)

    annotation_store.insert(
        Annotation(id=100, task_id=1, project_id=1, result=[], completed_by=7, lead_time=1.0),
        counts_toward_labeled=True,
    )
    annotation_store.update_fields(100, {"review_status": "accepted", "reviewed_by": 3})
    before, after = annotation_store.update_fields(100, {"ground_truth": True, "lead_time": None})
    assert (before.ground_truth, before.lead_time) == (False, 1.0)
    assert (after.ground_truth, after.lead_time, after.review_status, after.version) == (
        True,
        None,
        "accepted",
        2,
    )
    assert annotation_store.get(100) == after
    with pytest.raises(Conflict):
        annotation_store.update_fields(100, {"lead_time": 5.0}, expected_version=1)


def test_a_project_stored_before_setting_values_is_read_and_moved_on_its_first_change(aws):
    from functions.store.models import ProjectModel

    legacy = json.dumps({"description": "old", "color": "#123456", "maximum_annotations": 2, "gone": 1})
    ProjectModel(1, title="p", created_by=1, created_at=utcnow(), settings=legacy, version=4).save()
    project = project_store.get(1)
    assert (project.description, project.color, project.maximum_annotations, project.version) == (
        "old",
        "#123456",
        2,
        4,
    )
    assert project.sampling == "Sequential sampling"  # not in the document: the default
    before, after = project_store.update_settings(1, {"color": "#654321"}, expected_version=4)
    assert (before.color, after.color, after.version) == ("#123456", "#654321", 5)
    stored = project_store.get(1)
    assert (stored.description, stored.color, stored.maximum_annotations) == ("old", "#654321", 2)
    item = ProjectModel.get(1)
    assert item.settings is None and json.loads(item.setting_values["color"]) == "#654321"


def test_counters_add_and_refuse_a_missing_item(aws):
    _project(1)
    project_store.add_counters(1, task_number=3, total_annotations_number=2)
    project_store.add_counters(1, task_number=-1)
    project = project_store.get(1)
    assert (project.task_number, project.total_annotations_number) == (2, 2)
    assert project_store.reserve_inner_ids(1, 10) == 1
    assert project_store.reserve_inner_ids(1, 1) == 11
    with pytest.raises(Conflict):
        project_store.reserve_inner_ids(404, 1)


def test_large_task_data_is_offloaded_and_read_back(aws, monkeypatch):
    _project(1)
    big = {"text": "x" * (get_settings().offload_bytes + 10)}
    task_store.create(Task(id=1, project_id=1, data=big))
    assert task_store.get(1).data == big
    assert task_store.TaskModel.get(1).data is None and task_store.TaskModel.get(1).data_ref


def test_deletes_remove_items_and_their_index_entries(aws):
    _project(1)
    _tasks(1, range(1, 11))
    task_store.delete_many(range(1, 6))
    assert task_store.page_ids(1, 0, 100) == [6, 7, 8, 9, 10]
    with pytest.raises(NotFound):
        task_store.get(3)
    assert [e.task_id for e in next(label_queue.candidate_pages(1, SEQUENTIAL, user_id=9))] == [
        6,
        7,
        8,
        9,
        10,
    ]
    project_store.delete(1)
    with pytest.raises(NotFound):
        project_store.get(1)


def test_every_annotation_change_reaches_the_stream_in_order(aws):
    from infra.event_pump import EventPump

    seen: list[tuple[str, int]] = []

    def recorder(change) -> None:
        seen.append((change.action, change.annotation_id))

    _project(1)
    _tasks(1, [1])
    a = annotation_store.insert(
        Annotation(id=100, task_id=1, project_id=1, result=[], completed_by=7, lead_time=1.0),
        counts_toward_labeled=True,
    )
    annotation_store.update_fields(a.id, {"lead_time": 2.0}, expected_version=a.version)
    pump = EventPump(subscribers=[recorder])
    pump.drain()
    annotation_store.remove(annotation_store.get(100), counts_toward_labeled=True, others=[])
    pump.drain()
    assert seen == [("created", 100), ("updated", 100), ("deleted", 100)]
    assert pump.drain() == 0  # nothing is offered twice


def test_concurrent_leases_and_counters_stay_exact(aws, engine):
    """Many threads at once: each task leased by one annotator, and no counter ADD lost."""
    _project(1)
    _tasks(1, range(1, 21))
    winners: dict[int, list[int]] = {}
    lock = threading.Lock()

    def annotator(user_id: int) -> None:
        for entry in next(label_queue.candidate_pages(1, SEQUENTIAL, user_id=user_id)):
            if not entry.locks and label_queue.acquire(entry, user_id, time.time() + 60, []):
                with lock:
                    winners.setdefault(entry.task_id, []).append(user_id)
                project_store.add_counters(1, total_annotations_number=1)

    threads = [threading.Thread(target=annotator, args=(u,)) for u in range(1, 11)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(len(users) == 1 for users in winners.values())
    assert project_store.get(1).total_annotations_number == len(winners)
