"""Issue 7's loop on `labelstack dev` itself: label 30 reviews through the API with training on
submission enabled, and the local stack (event pump, training runner, model server) retrains the built-in
model behind its SageMaker endpoint by itself; the backend's version changes, predictions retrieved again
carry it, and on held-out reviews the trained model beats the untrained one."""

from __future__ import annotations

import time

import httpx

from infra.local_stack import BUILTIN_ENDPOINT
from tests.e2e.conftest import E2E_TOKEN
from tests.ml_endpoints.support import SENTIMENT_CONFIG, reviews


def choice(label: str) -> list[dict]:
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


def held_out_accuracy(api: httpx.Client, task_ids: list[int], labels: list[str]) -> tuple[float, set[str]]:
    right, versions = 0, set()
    for task_id, label in zip(task_ids, labels, strict=True):
        for prediction in api.get("/api/predictions", params={"task": task_id}).json():
            versions.add(prediction["model_version"])
            right += prediction["result"][0]["value"]["choices"] == [label]
    return right / len(task_ids), versions


def test_labeling_retrains_the_model_behind_the_endpoint(local_stack):
    api = httpx.Client(base_url=local_stack, headers={"Authorization": f"Token {E2E_TOKEN}"}, timeout=60)
    labeled, held_out = reviews(30, seed=21), reviews(40, seed=77)
    project = api.post(
        "/api/projects",
        json={
            "title": "active learning",
            "label_config": SENTIMENT_CONFIG,
            "start_training_on_annotation_update": True,
        },
    ).json()
    pid = project["id"]

    def import_texts(pairs):
        answer = api.post(
            f"/api/projects/{pid}/import",
            params={"return_task_ids": "true"},
            json=[{"data": {"text": text}} for text, _ in pairs],
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["task_ids"]

    train_ids, test_ids = import_texts(labeled), import_texts(held_out)
    backend = api.post(
        "/api/ml",
        json={
            "project": pid,
            "kind": "sagemaker",
            "title": "builtin",
            "endpoint_name": BUILTIN_ENDPOINT,
            "region": "us-east-1",
        },
    ).json()
    initial_version = backend["model_version"]

    def retrieve_held_out():
        answer = api.post(
            "/api/dm/actions",
            params={"id": "retrieve_tasks_predictions", "project": pid},
            json={"selectedItems": {"all": False, "included": test_ids}},
        )
        assert answer.status_code == 200, answer.text

    retrieve_held_out()
    untrained, _ = held_out_accuracy(api, test_ids, [label for _, label in held_out])

    for task_id, (_, label) in zip(train_ids, labeled, strict=True):
        assert (
            api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice(label)}).status_code == 201
        )
        time.sleep(0.1)  # an annotator's pace, compressed: runs start while labeling goes on

    deadline = time.monotonic() + 180
    while True:
        runs = api.get(f"/api/ml/{backend['id']}/trainings").json()
        completed = [r for r in runs if r["status"] == "completed"]
        if completed and all(r["status"] != "running" for r in runs):
            break
        assert time.monotonic() < deadline, runs
        time.sleep(0.5)
    assert all(r["trigger"] == "annotations" for r in runs)
    latest = completed[0]
    current = api.get(f"/api/ml/{backend['id']}").json()
    assert current["model_version"] == latest["model_version"] != initial_version

    retrieve_held_out()
    trained, versions = held_out_accuracy(api, test_ids, [label for _, label in held_out])
    assert latest["model_version"] in versions
    assert trained > untrained and trained >= 0.7, (trained, untrained, latest)
