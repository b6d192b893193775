"""Webhook events beyond annotations, as Label Studio sends them: TASKS_CREATED (imports, one task, a
storage sync; 100 tasks a delivery), TASKS_DELETED, PROJECT_CREATED/UPDATED/DELETED (created and deleted go
to the webhooks of every project only), ANNOTATIONS_DELETED; and the test delivery."""

from __future__ import annotations

import json
from pathlib import Path

from functions.domain.webhook import SIGNATURE_HEADER, verify
from functions.services import webhooks as webhook_service
from functions.store import tasks as task_store
from infra.delivery_pump import DeliveryPump
from infra.event_pump import EventPump
from tests.api import test_webhooks as shared
from tests.api.test_projects import create_project
from tests.api.test_storages import bucket, put, sync
from tests.api.test_tasks import import_
from tests.api.test_webhooks import CHOICE, SECRET

# The receiver on 127.0.0.1 and the allow-list that lets the server call it.
allow_local = shared.allow_local
receiver = shared.receiver

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "ls-samples"


def _sample(action: str) -> dict:
    deliveries = json.loads((SAMPLES / "webhook_payloads.json").read_text())["deliveries"]
    return next(d["body"] for d in deliveries if d["body"]["action"] == action)


def _received(hook) -> list[dict]:
    return [json.loads(raw) for _, _, raw in hook.requests]


def _deliver() -> int:
    EventPump().drain()
    return DeliveryPump(retry_after=0).drain()


def _hook(api, url: str, project: int | None, **fields) -> dict:
    response = api.post("/api/webhooks", json={"project": project, "url": url, "secret": SECRET, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_an_import_sends_tasks_created_in_label_studios_shape_and_once(api, allow_local, receiver):
    hook = receiver()
    pid = create_project(api)["id"]
    _hook(api, hook.url, pid)
    ids = import_(api, pid, [{"data": {"text": "one"}, "meta": {"source": "s"}}, {"data": {"text": "two"}}])[
        "task_ids"
    ]
    assert _deliver() == 1
    [(_, headers, raw)] = hook.requests
    assert verify(SECRET, raw, headers[SIGNATURE_HEADER])
    sent = json.loads(raw)
    sample = _sample("TASKS_CREATED")
    assert set(sent) == set(sample) == {"action", "tasks", "project"}
    assert [t["id"] for t in sent["tasks"]] == ids
    assert sent["tasks"][0]["data"] == {"text": "one"} and sent["tasks"][0]["meta"] == {"source": "s"}
    assert set(sent["tasks"][0]) == set(sample["tasks"][0])
    assert sent["project"]["id"] == pid and sent["project"]["task_number"] == 2

    # Published again (a retried job, a retried call): the event's deliveries are logged, nothing is queued.
    tasks = task_store.batch_get(ids)
    assert webhook_service.tasks_created(pid, tasks) == 0
    assert _deliver() == 0 and len(hook.requests) == 1


def test_a_large_import_goes_100_tasks_a_delivery_and_one_task_is_one(api, allow_local, receiver):
    hook = receiver()
    pid = create_project(api)["id"]
    _hook(api, hook.url, pid, send_for_all_actions=False, actions=["TASKS_CREATED"])
    ids = import_(api, pid, [{"text": f"t{i}"} for i in range(250)])["task_ids"]
    one = api.post("/api/tasks", json={"project": pid, "data": {"text": "single"}})
    assert one.status_code == 201, one.text
    assert _deliver() == 4
    batches = sorted([t["id"] for t in body["tasks"]] for body in _received(hook))
    assert [len(b) for b in batches] == [100, 100, 50, 1]
    assert [i for b in batches for i in b] == [*ids, one.json()["id"]]


def test_a_storage_sync_sends_tasks_created_for_the_objects_it_imported(api, allow_local, receiver):
    hook = receiver()
    pid = create_project(api)["id"]
    _hook(api, hook.url, pid, send_for_all_actions=False, actions=["TASKS_CREATED"])
    name = bucket("hooked-media")
    for key in ("texts/a.txt", "texts/b.txt"):
        put(name, key)
    storage = api.post(
        "/api/storages/s3", json={"project": pid, "bucket": name, "prefix": "texts/", "use_blob_urls": True}
    ).json()
    assert sync(api, f"/api/storages/s3/{storage['id']}")["status"] == "completed"
    sync(api, f"/api/storages/s3/{storage['id']}")  # nothing new: nothing sent
    assert _deliver() == 1
    [sent] = _received(hook)
    assert sorted(t["data"]["text"] for t in sent["tasks"]) == [
        f"s3://{name}/texts/a.txt",
        f"s3://{name}/texts/b.txt",
    ]


def test_deleted_tasks_send_tasks_deleted_with_their_ids(api, allow_local, receiver):
    hook = receiver()
    pid = create_project(api)["id"]
    ids = import_(api, pid, [{"text": "a"}, {"text": "b"}, {"text": "c"}])["task_ids"]
    _hook(api, hook.url, pid, send_for_all_actions=False, actions=["TASKS_DELETED"])
    assert api.delete(f"/api/tasks/{ids[0]}").status_code == 204
    action = api.post(
        "/api/dm/actions",
        params={"project": pid, "id": "delete_tasks"},
        json={"selectedItems": {"all": False, "included": ids[1:]}},
    )
    assert action.status_code == 200, action.text
    assert _deliver() == 2
    sent = _received(hook)
    assert sorted(([t["id"] for t in s["tasks"]] for s in sent), key=len) == [[ids[0]], ids[1:]]
    assert all(s["action"] == "TASKS_DELETED" and s["project"]["id"] == pid for s in sent)


def test_project_events_go_where_label_studio_sends_them(api, allow_local, receiver):
    everywhere, mine = receiver(), receiver()
    _hook(api, everywhere.url, None)  # every project's: created, updated, deleted
    created = create_project(api, title="Events")
    pid = created["id"]
    _hook(api, mine.url, pid)  # the project's own: only updated (created/deleted are organization-only)
    assert api.patch(f"/api/projects/{pid}", json={"title": "Events 2"}).status_code == 200
    _deliver()  # before the deletion, which removes the project's webhooks with it
    assert api.delete(f"/api/projects/{pid}").status_code == 204
    _deliver()
    assert [(s["action"], s["project"].get("title")) for s in _received(everywhere)] == [
        ("PROJECT_CREATED", "Events"),
        ("PROJECT_UPDATED", "Events 2"),
        ("PROJECT_DELETED", None),
    ]
    assert _received(everywhere)[-1] == {"action": "PROJECT_DELETED", "project": {"id": pid}}
    assert [(s["action"], s["project"]["title"]) for s in _received(mine)] == [
        ("PROJECT_UPDATED", "Events 2")
    ]


def test_a_project_webhook_refuses_organization_only_actions_and_info_filters_them(api):
    pid = create_project(api)["id"]
    refused = api.post(
        "/api/webhooks",
        json={
            "project": pid,
            "url": "https://example.com/h",
            "send_for_all_actions": False,
            "actions": ["PROJECT_CREATED", "TASKS_CREATED"],
        },
    )
    assert refused.status_code == 400 and "actions" in refused.json()["validation_errors"]
    project_actions = api.get("/api/webhooks/info", params={"organization-only": "false"}).json()
    assert "PROJECT_CREATED" not in project_actions and "PROJECT_UPDATED" in project_actions
    organization = api.get("/api/webhooks/info", params={"organization-only": "true"}).json()
    assert set(organization) == {"PROJECT_CREATED", "PROJECT_DELETED"}
    assert len(api.get("/api/webhooks/info").json()) == 12


def test_deleted_annotations_send_annotations_deleted_and_a_gone_project_sends_nothing(
    api, allow_local, receiver, monkeypatch, caplog
):
    from functions.services import jobs

    hook = receiver()
    pump = EventPump()  # one reader of the stream throughout (a new one reads moto's from its start)
    pid = create_project(api)["id"]
    [task_id] = import_(api, pid, [{"text": "x"}])["task_ids"]
    annotation = api.post(f"/api/tasks/{task_id}/annotations", json={"result": CHOICE}).json()
    _hook(api, hook.url, None, send_for_all_actions=False, actions=["ANNOTATIONS_DELETED"])
    pump.drain()  # the creation, which this webhook does not want
    action = api.post("/api/dm/actions", params={"project": pid, "id": "delete_tasks_annotations"})
    assert action.status_code == 200, action.text
    pump.drain()
    assert DeliveryPump(retry_after=0).drain() == 1
    [sent] = _received(hook)
    assert sent["annotations"] == [{"id": annotation["id"]}] and sent["project"]["id"] == pid

    # A deleted project's annotations go with it: Label Studio sends no event for those, nor do we, and
    # the stream's records of them are handled (not failed and retried) although the project is gone.
    api.post(f"/api/tasks/{task_id}/annotations", json={"result": CHOICE})
    pump.drain()
    monkeypatch.setattr(jobs, "submit", jobs.run)
    assert api.delete(f"/api/projects/{pid}").status_code == 204
    caplog.clear()
    assert pump.drain() == 1  # the annotation's removal
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert DeliveryPump(retry_after=0).drain() == 0 and len(hook.requests) == 1


def test_a_deleted_project_takes_its_webhooks_along(api, allow_local, monkeypatch):
    from functions.services import jobs

    monkeypatch.setattr(jobs, "submit", jobs.run)
    pid = create_project(api)["id"]
    hook = _hook(api, "http://127.0.0.1:9/h", pid)
    assert api.delete(f"/api/projects/{pid}").status_code == 204
    assert api.get(f"/api/webhooks/{hook['id']}").status_code == 404


def test_send_test_goes_through_the_queue_signed_and_shows_in_the_log(api, allow_local, receiver, make_user):
    hook = receiver()
    pid = create_project(api)["id"]
    webhook = _hook(api, hook.url, pid, send_for_all_actions=False, actions=["ANNOTATION_CREATED"])
    queued = api.post(f"/api/webhooks/{webhook['id']}/test")
    assert queued.status_code == 202, queued.text
    assert (queued.json()["action"], queued.json()["status"]) == ("WEBHOOK_TEST", "queued")
    assert hook.requests == []  # queued, not sent by the request
    assert DeliveryPump(retry_after=0).drain() == 1
    [(_, headers, raw)] = hook.requests
    assert verify(SECRET, raw, headers[SIGNATURE_HEADER])
    sent = json.loads(raw)
    assert sent["action"] == "WEBHOOK_TEST" and sent["webhook"]["id"] == webhook["id"]
    assert sent["project"]["id"] == pid
    [logged] = api.get(f"/api/webhooks/{webhook['id']}/deliveries").json()
    assert (logged["id"], logged["status"], logged["response_status"]) == (
        queued.json()["id"],
        "delivered",
        200,
    )

    # Each press is a new test; an inactive webhook is not sent one; only its managers may send one.
    assert api.post(f"/api/webhooks/{webhook['id']}/test").status_code == 202
    assert len(api.get(f"/api/webhooks/{webhook['id']}/deliveries").json()) == 2
    api.patch(f"/api/webhooks/{webhook['id']}", json={"is_active": False})
    inactive = api.post(f"/api/webhooks/{webhook['id']}/test")
    assert inactive.status_code == 400 and "is_active" in inactive.json()["validation_errors"]
    user, as_annotator = make_user("ann@example.com", "annotator")
    api.post(f"/api/projects/{pid}/members", json={"user": user["id"]})
    assert as_annotator.post(f"/api/webhooks/{webhook['id']}/test").status_code == 403
