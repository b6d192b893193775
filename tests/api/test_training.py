"""Training on annotation events, end to end in one process: annotations written through the API reach
the stream (the local event pump), the training trigger starts a run when the project's
`min_annotations_to_start_training` new annotations arrived, and the local runner trains the built-in
text classifier in a subprocess (the SageMaker training job), deploys it to the model server behind the
emulated endpoint, and records the new version. A run that fails records why, and the next annotations
start another."""

from __future__ import annotations

import time

import pytest

from infra.event_pump import EventPump
from infra.local_stack import create_emulated_endpoint
from infra.local_training import LocalTrainingRunner
from tests.api.test_ml_backends import allow_local, backend, backend_process, predictions_of, retrieve  # noqa: F401
from tests.api.test_projects import create_project
from tests.api.test_tasks import import_
from tests.ml_endpoints.support import SENTIMENT_CONFIG, model_server, reviews

ENDPOINT = "labelstack-test-sentiment"


def choice(label: str) -> list[dict]:
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


@pytest.fixture
def builtin_endpoint(aws, allow_local, tmp_path, monkeypatch):  # noqa: F811
    """The built-in text classifier behind an emulated SageMaker endpoint, and the local training runner."""
    from functions.services import training
    from infra.local_stack import apply_settings

    create_emulated_endpoint(ENDPOINT, config_name="builtin-initial", model_name="builtin")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    with model_server("text_classifier", model_dir) as url:
        monkeypatch.setenv("LABELSTACK_SAGEMAKER_RUNTIME_URL", url)
        apply_settings({})
        training.use_local_runner(LocalTrainingRunner(model_dir))
        yield
        training.use_local_runner(None)
    monkeypatch.delenv("LABELSTACK_SAGEMAKER_RUNTIME_URL")
    apply_settings({})


def wait_until_idle(api, backend_id: int, runs: int, seconds: float = 90) -> list[dict]:
    deadline = time.monotonic() + seconds
    while True:
        found = api.get(f"/api/ml/{backend_id}/trainings").json()
        if len(found) >= runs and all(t["status"] != "running" for t in found):
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.2)


def test_annotations_start_training_and_the_new_model_serves_a_new_version(api, builtin_endpoint):
    labeled, held_out = reviews(24, seed=3), reviews(20, seed=99)
    project = create_project(api, label_config=SENTIMENT_CONFIG, min_annotations_to_start_training=12)
    pid = project["id"]
    train_ids = import_(api, pid, [{"data": {"text": text}} for text, _ in labeled])["task_ids"]
    test_ids = import_(api, pid, [{"data": {"text": text}} for text, _ in held_out])["task_ids"]
    created = api.post(
        "/api/ml",
        json={
            "project": pid,
            "kind": "sagemaker",
            "title": "builtin",
            "endpoint_name": ENDPOINT,
            "region": "us-east-1",
        },
    ).json()
    assert created["model_version"] == "builtin-initial"
    # Untrained, the classifier abstains: no prediction, so no accuracy at all on the held-out reviews.
    assert retrieve(api, pid, {"all": False, "included": test_ids})["processed_items"] == 0

    pump = EventPump()
    for task_id, (_, label) in zip(train_ids[:11], labeled, strict=False):
        api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice(label)})
    pump.drain()
    assert api.get(f"/api/ml/{created['id']}/trainings").json() == []  # 11 < 12: not yet
    api.post(f"/api/tasks/{train_ids[11]}/annotations", json={"result": choice(labeled[11][1])})
    pump.drain()
    [run] = wait_until_idle(api, created["id"], runs=1)
    assert (run["status"], run["trigger"], run["annotations"], run["kind"]) == (
        "completed",
        "annotations",
        12,
        "sagemaker",
    )
    assert run["model_version"] == f"{ENDPOINT}-run{run['id']}"
    assert 0.0 <= run["metrics"]["validation:accuracy"] <= 1.0 and run["metrics"]["train:examples"] > 0
    connected = api.get(f"/api/ml/{created['id']}").json()
    assert (connected["state"], connected["model_version"]) == ("CO", run["model_version"])

    retrieve(api, pid, {"all": False, "included": test_ids})
    right = 0
    for task_id, (_, label) in zip(test_ids, held_out, strict=True):
        [prediction] = predictions_of(api, task_id)
        assert prediction["model_version"] == run["model_version"]
        right += prediction["result"][0]["value"]["choices"] == [label]
    assert right / len(test_ids) > 0.5  # the untrained model answered none of them

    # The next 12 annotations start the next run, on all 24.
    for task_id, (_, label) in zip(train_ids[12:], labeled[12:], strict=True):
        api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice(label)})
    pump.drain()
    second, first = wait_until_idle(api, created["id"], runs=2)
    assert first["id"] == run["id"] and second["annotations"] == 24 and second["status"] == "completed"
    assert api.get(f"/api/ml/{created['id']}").json()["model_version"] == second["model_version"]


def test_a_failed_run_leaves_the_reason_and_the_next_annotation_starts_another(api, builtin_endpoint):
    project = create_project(api, label_config=SENTIMENT_CONFIG, start_training_on_annotation_update=True)
    pid = project["id"]
    ids = import_(
        api,
        pid,
        [{"data": {"text": f"great phone {i}"}} for i in range(4)] + [{"data": {"text": "awful phone"}}],
    )["task_ids"]
    backend_id = api.post(
        "/api/ml",
        json={
            "project": pid,
            "kind": "sagemaker",
            "title": "builtin",
            "endpoint_name": ENDPOINT,
            "region": "us-east-1",
        },
    ).json()["id"]
    pump = EventPump()
    api.post(f"/api/tasks/{ids[0]}/annotations", json={"result": choice("Positive")})
    pump.drain()
    [failed] = wait_until_idle(api, backend_id, runs=1)
    assert failed["status"] == "failed" and "training needs at least" in failed["error"]
    failing = api.get(f"/api/ml/{backend_id}").json()
    assert failing["state"] == "ER" and f"Training run {failed['id']} failed" in failing["error_message"]

    for task_id, label in zip(ids[1:], ["Positive", "Positive", "Positive", "Negative"], strict=True):
        api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice(label)})
    pump.drain()
    runs = wait_until_idle(api, backend_id, runs=2)
    assert runs[0]["status"] == "completed" and runs[0]["annotations"] >= 2
    assert api.get(f"/api/ml/{backend_id}").json()["state"] == "CO"


def test_one_run_at_a_time_and_by_hand_for_http_backends(api, allow_local, backend, make_user):  # noqa: F811
    from functions.services import training
    from infra.local_training import LocalTrainingRunner

    pid = create_project(api)["id"]
    ml = api.post("/api/ml", json={"project": pid, "url": backend.url, "title": "kw"}).json()
    started = []
    training.use_local_runner(started.append)  # a runner that holds the run: it never finishes
    try:
        trained = api.post(f"/api/ml/{ml['id']}/train")
        assert trained.status_code == 200 and trained.content == b""  # Label Studio's answer
        again = api.post(f"/api/ml/{ml['id']}/train")
        assert again.status_code == 409 and "in progress" in again.json()["detail"]
        assert len(started) == 1
        [run] = api.get(f"/api/ml/{ml['id']}/trainings").json()
        assert run["status"] == "running" and api.get(f"/api/ml/{ml['id']}").json()["state"] == "TR"
        # The held run goes on through the real steps: Label Studio's START_TRAINING to /webhook.
        LocalTrainingRunner(model_dir=backend.url).run(started[0]["training_id"])
        [done] = api.get(f"/api/ml/{ml['id']}/trainings").json()
        assert done["status"] == "completed" and done["trigger"] == "manual"
        webhook = backend.calls("/webhook")[-1]
        assert webhook["method"] == "POST"
        assert api.get(f"/api/ml/{ml['id']}").json()["state"] == "CO"
    finally:
        training.use_local_runner(None)

    _, outsider = make_user("outsider@example.com", "annotator")
    assert outsider.get(f"/api/ml/{ml['id']}/trainings").status_code == 404
    assert outsider.post(f"/api/ml/{ml['id']}/train").status_code == 404


def test_a_backend_that_is_down_fails_the_run_with_the_reason(api, allow_local, tmp_path):  # noqa: F811
    from functions.services import training
    from tests.ml.harness import BackendProcess

    down_later = BackendProcess("tests.ml.keyword_backend", tmp_path)
    pid = create_project(api)["id"]
    ml = api.post("/api/ml", json={"project": pid, "url": down_later.url, "title": "kw"}).json()
    assert ml["state"] == "CO"
    down_later.stop()
    started = []
    training.use_local_runner(started.append)
    try:
        assert api.post(f"/api/ml/{ml['id']}/train").status_code == 200
        LocalTrainingRunner(model_dir=tmp_path).run(started[0]["training_id"])
    finally:
        training.use_local_runner(None)
    [run] = api.get(f"/api/ml/{ml['id']}/trainings").json()
    assert run["status"] == "failed" and run["error"]
    stored = api.get(f"/api/ml/{ml['id']}").json()
    assert stored["state"] == "ER" and f"Training run {run['id']} failed" in stored["error_message"]
    # The claim was released: the next run may start.
    training.use_local_runner(started.append)
    try:
        assert api.post(f"/api/ml/{ml['id']}/train").status_code == 200
    finally:
        training.use_local_runner(None)
