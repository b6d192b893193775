"""Webhooks through the real app: a receiver on 127.0.0.1 (allowed by the allow-list) gets
ANNOTATION_CREATED signed with the webhook's secret; a receiver answering 500 gets every retry and the
message ends in the dead-letter queue (moto SQS with the redrive policy the stack sets)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from functions.domain.webhook import SIGNATURE_HEADER, verify
from functions.store.aws_clients import client
from infra.delivery_pump import DeliveryPump, dead_letter_queue_name
from infra.event_pump import EventPump
from tests.api.test_projects import create_project
from tests.api.test_tasks import import_

CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]
SECRET = "receiver-shared-secret-0123456789"


class Receiver:
    def __init__(self, status: int = 200):
        self.status, self.requests = status, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((self.path, dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def allow_local(aws, monkeypatch):
    from infra.local_stack import apply_settings

    monkeypatch.setenv("LABELSTACK_ALLOWED_HOSTS", "127.0.0.1")
    apply_settings({})
    yield
    monkeypatch.delenv("LABELSTACK_ALLOWED_HOSTS")
    apply_settings({})


@pytest.fixture
def receiver():
    made = []

    def make(status=200):
        made.append(Receiver(status))
        return made[-1]

    yield make
    for r in made:
        r.close()


def new_task(api, pid) -> int:
    """A task, imported before the test's webhook exists (so its TASKS_CREATED goes to nobody)."""
    [task_id] = import_(api, pid, [{"data": {"text": "good"}}])["task_ids"]
    return task_id


def annotate(api, task_id):
    return api.post(f"/api/tasks/{task_id}/annotations", json={"result": CHOICE}).json()


def test_receiver_gets_annotation_created_signed(api, allow_local, receiver, monkeypatch):
    hook = receiver()
    pid = create_project(api)["id"]
    task_id = new_task(api, pid)
    created = api.post(
        "/api/webhooks",
        json={"project": pid, "url": hook.url, "headers": {"X-Sample": "1"}, "secret": SECRET},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["send_payload"] is True and body["send_for_all_actions"] is True and body["actions"] == []
    assert body["secret_is_set"] is True and SECRET not in created.text
    annotation = annotate(api, task_id)
    # This pump hands the record on and then dies before it can acknowledge it (a crash, a restart).
    with monkeypatch.context() as crash:
        crash.setattr(EventPump, "_acknowledge", lambda self, records: None)
        EventPump().drain()
    assert DeliveryPump(retry_after=0).drain() == 1

    [(path, headers, raw)] = hook.requests
    assert path == "/hook" and headers["X-Sample"] == "1"
    assert verify(SECRET, raw, headers[SIGNATURE_HEADER])
    assert not verify("another-secret-entirely-000000", raw, headers[SIGNATURE_HEADER])
    sent = json.loads(raw)
    assert sent["action"] == "ANNOTATION_CREATED"
    assert (
        sent["annotation"]["id"] == annotation["id"]
        and sent["annotation"]["completed_by"] == annotation["completed_by"]
    )
    assert sent["task"]["id"] == task_id and sent["project"]["id"] == pid
    log = api.get(f"/api/webhooks/{body['id']}/deliveries").json()
    assert [(d["action"], d["status"], d["attempts"], d["response_status"]) for d in log] == [
        ("ANNOTATION_CREATED", "delivered", 1, 200)
    ]
    # A fresh pump reads the same record again (at least once: the stream from its start, or the change
    # log's unacknowledged records). It is not sent twice.
    assert EventPump().drain() == 1
    assert DeliveryPump(retry_after=0).drain() == 0 and len(hook.requests) == 1


def test_only_wanted_actions_and_no_payload_when_asked(api, allow_local, receiver):
    hook = receiver()
    pid = create_project(api)["id"]
    task_id = new_task(api, pid)
    api.post(
        "/api/webhooks",
        json={
            "project": pid,
            "url": hook.url,
            "send_payload": False,
            "send_for_all_actions": False,
            "actions": ["ANNOTATION_UPDATED"],
        },
    )
    annotation = annotate(api, task_id)
    api.patch(f"/api/annotations/{annotation['id']}", json={"result": CHOICE, "lead_time": 1.0})
    EventPump().drain()
    DeliveryPump(retry_after=0).drain()
    assert [json.loads(raw) for _, _, raw in hook.requests] == [{"action": "ANNOTATION_UPDATED"}]


def test_failing_receiver_is_retried_then_dead_lettered(api, allow_local, receiver):
    hook = receiver(status=500)
    pid = create_project(api)["id"]
    task_id = new_task(api, pid)
    webhook = api.post("/api/webhooks", json={"project": pid, "url": hook.url, "secret": SECRET}).json()
    annotate(api, task_id)
    EventPump().drain()
    DeliveryPump(retry_after=0).drain()
    assert len(hook.requests) == 5  # maxReceiveCount: every attempt reached the receiver
    sqs = client("sqs")
    from functions.settings import get_settings

    dlq = sqs.get_queue_url(QueueName=dead_letter_queue_name(get_settings().deliveries_queue))["QueueUrl"]
    [parked] = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert json.loads(parked["Body"])["action"] == "ANNOTATION_CREATED"
    [entry] = api.get(f"/api/webhooks/{webhook['id']}/deliveries").json()
    assert (entry["status"], entry["attempts"], entry["response_status"]) == ("failed", 5, 500)


def test_urls_pass_the_ssrf_guard_and_fields_are_checked(api):
    pid = create_project(api)["id"]
    for url in ("http://127.0.0.1:9/hook", "http://169.254.169.254/latest", "file:///etc/passwd"):
        response = api.post("/api/webhooks", json={"project": pid, "url": url})
        assert response.status_code == 400 and "url" in response.json()["validation_errors"], url
    bad_header = api.post(
        "/api/webhooks", json={"project": pid, "url": "https://example.com/h", "headers": {"Bad Header": "x"}}
    )
    assert bad_header.status_code == 400 and "headers" in bad_header.json()["validation_errors"]
    bad_action = api.post(
        "/api/webhooks", json={"project": pid, "url": "https://example.com/h", "actions": ["NOPE"]}
    )
    assert bad_action.status_code == 400 and "actions" in bad_action.json()["validation_errors"]
    assert api.get("/api/webhooks/info").json()["ANNOTATIONS_DELETED"]["key"] == "annotations"


def test_only_managers_and_admins_read_and_change_webhooks(api, make_user, allow_local):
    pid = create_project(api)["id"]
    hook = api.post("/api/webhooks", json={"project": pid, "url": "http://127.0.0.1:9/h"}).json()
    user, as_annotator = make_user("ann@example.com", "annotator")
    reviewer, as_reviewer = make_user("rev@example.com", "reviewer")
    manager, as_manager = make_user("man@example.com", "manager")
    assert as_annotator.get(f"/api/webhooks/{hook['id']}").status_code == 404  # not a member
    for member in (user, reviewer, manager):
        api.post(f"/api/projects/{pid}/members", json={"user": member["id"]})
    for member_client in (as_annotator, as_reviewer):
        assert member_client.get("/api/webhooks", params={"project": pid}).status_code == 403
        assert member_client.get(f"/api/webhooks/{hook['id']}").status_code == 403
        assert member_client.get(f"/api/webhooks/{hook['id']}/deliveries").status_code == 403
        assert (
            member_client.patch(f"/api/webhooks/{hook['id']}", json={"is_active": False}).status_code == 403
        )
        assert (
            member_client.post(
                "/api/webhooks", json={"project": pid, "url": "http://127.0.0.1:9/x"}
            ).status_code
            == 403
        )
    assert as_manager.get("/api/webhooks", params={"project": pid}).json()[0]["id"] == hook["id"]
    assert as_manager.get(f"/api/webhooks/{hook['id']}").status_code == 200
    assert api.patch(f"/api/webhooks/{hook['id']}", json={"is_active": False}).json()["is_active"] is False
    assert api.delete(f"/api/webhooks/{hook['id']}").status_code == 204
    assert api.get(f"/api/webhooks/{hook['id']}").status_code == 404


def test_header_values_are_write_only_and_kept_when_not_sent(api, allow_local, receiver):
    pid = create_project(api)["id"]
    task_id = new_task(api, pid)
    hook = receiver()
    secret_header = "Bearer receiver-credential-123"
    created = api.post(
        "/api/webhooks",
        json={
            "project": pid,
            "url": hook.url,
            "headers": {"Authorization": secret_header, "X-Tenant": "acme"},
        },
    )
    assert created.status_code == 201, created.text
    wid = created.json()["id"]
    assert created.json()["headers"] == {"Authorization": "********", "X-Tenant": "********"}
    for response in (api.get(f"/api/webhooks/{wid}"), api.get("/api/webhooks", params={"project": pid})):
        assert "receiver-credential-123" not in response.text and "acme" not in response.text

    # PATCH without headers, and a PUT of the object as read (masked values), keep the stored values.
    assert api.patch(f"/api/webhooks/{wid}", json={"send_payload": False}).status_code == 200
    as_read = api.get(f"/api/webhooks/{wid}").json()
    assert (
        api.put(f"/api/webhooks/{wid}", json={**as_read, "actions": ["ANNOTATION_CREATED"]}).status_code
        == 200
    )
    # A mask for a header that was never set is a mistake, not a value.
    unknown = api.patch(f"/api/webhooks/{wid}", json={"headers": {"X-New": "********"}})
    assert unknown.status_code == 400 and "headers" in unknown.json()["validation_errors"]

    annotate(api, task_id)
    EventPump().drain()
    assert DeliveryPump(retry_after=0).drain() == 1
    [(_, headers, _)] = hook.requests
    received = {name.lower(): value for name, value in headers.items()}
    assert received["authorization"] == secret_header and received["x-tenant"] == "acme"

    # Sending headers replaces them.
    replaced = api.patch(f"/api/webhooks/{wid}", json={"headers": {"X-Tenant": "********"}})
    assert replaced.json()["headers"] == {"X-Tenant": "********"}
