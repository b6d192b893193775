"""On both engines: the counts of a project's predictions by model version follow every way predictions
are stored, changed and deleted; a project from before the counts is counted once; and settings kept one
map entry each (store/setting_maps.py) take parallel partial writes, legacy documents included."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from functions.domain.errors import Conflict
from functions.domain.ml_backend import MLBackend
from functions.domain.records import Prediction, Project, Task, utcnow
from functions.domain.webhook import Webhook
from functions.store import ml_backends as backend_store
from functions.store import model_versions
from functions.store import predictions as prediction_store
from functions.store import projects as project_store
from functions.store import tasks as task_store
from functions.store import webhooks as webhook_store


def _project(project_id: int = 1) -> None:
    project_store.create(Project(id=project_id, title="p", created_by=1))
    task_store.put_many([Task(id=i, project_id=project_id, data={"t": i}) for i in range(1, 6)])


def _prediction(pid: int, version: str, task_id: int = 1, at=None) -> Prediction:
    at = at or utcnow()
    return Prediction(
        id=pid, task_id=task_id, project_id=1, result=[], model_version=version, created_at=at, updated_at=at
    )


def _counts(project_id: int = 1) -> list[tuple[str, int]]:
    return [(v.model_version, v.count) for v in model_versions.counts(project_id)]


def test_counts_follow_every_write_of_predictions(aws):
    _project()
    early = utcnow() - timedelta(minutes=5)
    prediction_store.insert(_prediction(1, "old", at=early))
    prediction_store.put_many([_prediction(2, "v1", 2), _prediction(3, "v1", 3), _prediction(4, "", 4)])
    prediction_store.insert_batch(1, [_prediction(5, "v2", 5)], {})
    assert sorted(_counts()) == [("", 1), ("old", 1), ("v1", 2), ("v2", 1)]
    assert _counts()[-1] == ("old", 1)  # the oldest last
    assert model_versions.has(1, "") and model_versions.has(1, "v2") and not model_versions.has(1, "v3")

    prediction_store.update_fields(3, {"model_version": "v2"})
    prediction_store.update_fields(2, {"score": 0.5})  # not its version: counts stay
    prediction_store.remove(prediction_store.get(1))
    prediction_store.delete_many([4])
    assert sorted(_counts()) == [("v1", 1), ("v2", 2)]
    assert not model_versions.has(1, "old") and not model_versions.has(1, "")


def test_versions_are_listed_the_latest_first(aws):
    _project()
    now = utcnow()
    for i, (version, minutes) in enumerate([("a", 30), ("b", 10), ("c", 20)], start=1):
        prediction_store.insert(_prediction(i, version, at=now - timedelta(minutes=minutes)))
    assert [v for v, _ in _counts()] == ["b", "c", "a"]


def test_a_project_from_before_the_counts_is_counted_once(aws):
    _project()
    prediction_store.put_many([_prediction(i, "v1" if i % 2 else "v2", i) for i in range(1, 6)])
    # As a project stored before the counts: no `counted` item, no counts.
    model_versions.delete_for_project(1)
    assert not model_versions.is_counted(1) and _counts() == []
    assert model_versions.claim_count(1)
    assert not model_versions.claim_count(1)  # one count at a time
    assert model_versions.recount(1) == 5
    assert sorted(_counts()) == [("v1", 3), ("v2", 2)] and model_versions.is_counted(1)
    assert not model_versions.claim_count(1)  # counted: nothing to claim


def test_settings_change_one_entry_each_and_parallel_changes_all_land(aws):
    backend = backend_store.create(MLBackend(id=7, project_id=1, url="http://m", title="t"))
    changes = {
        "title": "renamed",
        "description": "d",
        "timeout": 5.0,
        "is_interactive": True,
        "model_version": "m2",
    }
    barrier = threading.Barrier(len(changes))

    def change(name):
        barrier.wait()
        backend_store.update_fields(backend.id, {name: changes[name]})

    threads = [threading.Thread(target=change, args=(name,)) for name in changes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = backend_store.get(7)
    assert {name: getattr(stored, name) for name in changes} == changes
    assert (stored.url, stored.version) == ("http://m", len(changes))
    # A change worked out from a setting someone else has moved since is refused, as is a stale version.
    with pytest.raises(Conflict):
        backend_store.update_fields(7, {"extra_params": {"a": 1}}, unchanged={"url": "http://elsewhere"})
    with pytest.raises(Conflict):
        backend_store.update_fields(7, {"title": "x"}, expected_version=1)
    assert backend_store.get(7).extra_params is None


def test_items_from_before_the_setting_maps_are_read_and_moved_on_their_first_change(aws):
    from functions.store.models import MLBackendModel, WebhookModel

    now = utcnow()
    legacy = {"kind": "http", "title": "old", "url": "http://m", "timeout": 9.0, "basic_auth_pass": "s"}
    MLBackendModel(
        3, project_id=1, fields=json.dumps(legacy), state="CO", created_at=now, updated_at=now, version=2
    ).save()
    backend = backend_store.get(3)
    assert (backend.title, backend.timeout, backend.basic_auth_pass, backend.version) == ("old", 9.0, "s", 2)
    before, after = backend_store.update_fields(3, {"title": "new"}, expected_version=2)
    assert (before.title, after.title, after.url, after.version) == ("old", "new", "http://m", 3)
    item = MLBackendModel.get(3)
    assert item.fields is None and json.loads(item.setting_values["url"]) == "http://m"

    hook = {"url": "http://h", "send_payload": False, "headers": {"A": "b"}}
    WebhookModel(
        4, project_id=1, fields=json.dumps(hook), secret="s" * 20, created_at=now, updated_at=now, version=0
    ).save()
    _, saved = webhook_store.update_fields(4, {"is_active": False}, ml_backend=3)
    stored = webhook_store.get(4)
    assert stored == saved
    assert (stored.url, stored.send_payload, stored.headers, stored.is_active, stored.ml_backend) == (
        "http://h",
        False,
        {"A": "b"},
        False,
        3,
    )
    webhook_store.update_fields(4, {"url": "http://elsewhere"}, ml_backend=None)
    assert webhook_store.get(4).ml_backend is None


def test_a_new_webhook_made_for_a_backend_says_so(aws):
    hook = webhook_store.create(
        Webhook(id=9, project_id=1, url="http://m/webhook", secret="s" * 20, ml_backend=5)
    )
    assert webhook_store.get(9) == hook and webhook_store.list_for_project(1)[0].ml_backend == 5
