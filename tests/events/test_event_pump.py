"""The local event pump over the emulated annotations stream: real annotations written through the API
reach the subscribers, in order, and a failing subscriber's record is offered again."""

from __future__ import annotations

from functions.events.annotation_changes import AnnotationChange
from infra.event_pump import EventPump
from tests.api.test_projects import create_project
from tests.api.test_tasks import import_

CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]


def test_annotations_written_through_the_api_reach_subscribers(api):
    received: list[AnnotationChange] = []
    pump = EventPump(subscribers=[received.append])
    pid = create_project(api)["id"]
    [task_id] = import_(api, pid, [{"data": {"text": "good"}}])["task_ids"]
    assert pump.drain() == 0  # importing tasks writes no annotation

    created = api.post(f"/api/tasks/{task_id}/annotations", json={"result": CHOICE}).json()
    updated = api.patch(f"/api/annotations/{created['id']}", json={"result": CHOICE, "lead_time": 4.5})
    assert updated.status_code == 200, updated.text
    assert api.delete(f"/api/annotations/{created['id']}").status_code == 204
    pump.drain()

    actions = [(c.action, c.annotation_id, c.task_id, c.project_id) for c in received]
    assert actions[0] == ("created", created["id"], task_id, pid)
    assert actions[-1] == ("deleted", created["id"], task_id, pid)
    assert ("updated", created["id"], task_id, pid) in actions
    assert pump.drain() == 0  # nothing is delivered twice


def test_a_failed_record_is_offered_again_up_to_the_attempt_limit(api):
    attempts = []

    def flaky(change):
        attempts.append(change.annotation_id)
        if len(attempts) < 3:
            raise RuntimeError("target bucket briefly unavailable")

    pump = EventPump(max_attempts=3, subscribers=[flaky])
    pid = create_project(api)["id"]
    [task_id] = import_(api, pid, [{"data": {"text": "good"}}])["task_ids"]
    annotation = api.post(f"/api/tasks/{task_id}/annotations", json={"result": CHOICE}).json()
    pump.drain()
    pump.drain()
    pump.drain()
    assert attempts == [annotation["id"]] * 3
    pump.drain()
    assert len(attempts) == 3
