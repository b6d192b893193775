"""The ML loop on `labelstack dev` itself: a model written for PyPI's label-studio-ml (1.0.9), run by that
package's own server as a process on 127.0.0.1 and connected through the API, is told of each annotation
through the webhook connecting it registered, and its `fit()` gets ANNOTATION_CREATED and then
ANNOTATION_UPDATED with the annotation (the stack's event pump and delivery pump carry them)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.conftest import E2E_TOKEN
from tests.ml.harness import BackendProcess
from tests.ml.recording_backend import read_events

CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
    '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>'
)


def choice(label: str) -> list[dict]:
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


@pytest.fixture
def recording_backend(tmp_path):
    process = BackendProcess("tests.ml.recording_backend", tmp_path)
    yield process, tmp_path
    process.stop()


def wait_for_events(model_dir, count: int, seconds: float = 60) -> list[dict]:
    deadline = time.monotonic() + seconds
    while True:
        found = read_events(model_dir)
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.2)


def test_fit_gets_annotation_created_and_updated(local_stack, recording_backend):
    backend, model_dir = recording_backend
    with httpx.Client(
        base_url=local_stack, headers={"Authorization": f"Token {E2E_TOKEN}"}, timeout=60
    ) as api:
        pid = api.post("/api/projects", json={"title": "ml loop", "label_config": CONFIG}).json()["id"]
        [task_id] = api.post(
            f"/api/projects/{pid}/import",
            params={"return_task_ids": "true"},
            json=[{"data": {"text": "good"}}],
        ).json()["task_ids"]
        connected = api.post("/api/ml", json={"project": pid, "url": backend.url, "title": "recorder"})
        assert connected.status_code == 201, connected.text
        [hook] = api.get("/api/webhooks", params={"project": pid}).json()
        assert hook["url"] == f"{backend.url}/webhook" and hook["ml_backend"] == connected.json()["id"]

        # The annotator opens the task: the connected model pre-labels it (the project's default settings).
        shown = api.get(f"/api/projects/{pid}/next").json()
        assert shown["id"] == task_id and shown["predictions"][0]["result"] == choice("Positive")

        annotation = api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice("Positive")}).json()
        [created] = wait_for_events(model_dir, 1)
        assert created == {
            "event": "ANNOTATION_CREATED",
            "project": pid,
            "annotation": annotation["id"],
            "result": choice("Positive"),
        }
        api.patch(f"/api/annotations/{annotation['id']}", json={"result": choice("Negative")})
        _, updated = wait_for_events(model_dir, 2)
        assert updated == {
            "event": "ANNOTATION_UPDATED",
            "project": pid,
            "annotation": annotation["id"],
            "result": choice("Negative"),
        }
        # Logged once the backend answered, which may be just after fit() wrote its line.
        deadline = time.monotonic() + 10
        while True:
            deliveries = api.get(f"/api/webhooks/{hook['id']}/deliveries").json()
            logged = sorted((d["action"], d["status"], d["response_status"]) for d in deliveries)
            if logged == [("ANNOTATION_CREATED", "delivered", 201), ("ANNOTATION_UPDATED", "delivered", 201)]:
                break
            assert time.monotonic() < deadline, logged
            time.sleep(0.1)
