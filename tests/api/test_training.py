"""Training on annotation events, end to end in one process: annotations written through the API reach
the stream (the local event pump), the training trigger starts a run when the project's
`min_annotations_to_start_training` new annotations arrived, and the local runner trains the built-in
text classifier in a subprocess (the SageMaker training job), deploys it to the model server behind the
emulated endpoint, and records the new version. A run that fails records why, and the next annotations
start another."""

from __future__ import annotations

import json
import time

import httpx
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
    """The built-in text classifier behind an emulated SageMaker endpoint, and the local training runner
    (yielded)."""
    from functions.services import training
    from infra.local_stack import apply_settings

    create_emulated_endpoint(ENDPOINT, config_name="builtin-initial", model_name="builtin")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    with model_server("text_classifier", model_dir) as url:
        monkeypatch.setenv("LABELSTACK_SAGEMAKER_RUNTIME_URL", url)
        apply_settings({})
        runner = LocalTrainingRunner(model_dir)
        training.use_local_runner(runner)
        yield runner
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


# Endpoint ownership: what one project serves, no other project may retrain.


def register_endpoint(client, pid: int):
    return client.post(
        "/api/ml",
        json={
            "project": pid,
            "kind": "sagemaker",
            "title": "sm",
            "endpoint_name": ENDPOINT,
            "region": "us-east-1",
        },
    )


def served_choices(client, pid: int, task_ids: list[int]) -> list:
    """The project's predictions made afresh by its backend: (choices, model version) per task."""
    dropped = client.post(
        "/api/dm/actions",
        params={"id": "delete_tasks_predictions", "project": pid},
        json={"selectedItems": {"all": True, "excluded": []}},
    )
    assert dropped.status_code == 200, dropped.text
    retrieve(client, pid, {"all": False, "included": task_ids})
    return [
        [(p["result"][0]["value"]["choices"], p["model_version"]) for p in predictions_of(client, task_id)]
        for task_id in task_ids
    ]


def endpoint_config() -> str:
    from functions.store.aws_clients import client

    return client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]


def test_an_outsider_registering_anothers_endpoint_gets_it_read_only(api, builtin_endpoint, make_user):
    from functions.services import training

    # Project B owns the endpoint (it registered it first) and trains it on its annotations.
    labeled, held_out = reviews(24, seed=3), reviews(10, seed=99)
    owner_pid = create_project(api, label_config=SENTIMENT_CONFIG, min_annotations_to_start_training=24)["id"]
    owner_tasks = import_(api, owner_pid, [{"data": {"text": t}} for t, _ in labeled])["task_ids"]
    owner_held = import_(api, owner_pid, [{"data": {"text": t}} for t, _ in held_out])["task_ids"]
    owned = register_endpoint(api, owner_pid)
    assert owned.status_code == 201 and owned.json()["read_only"] is False
    pump = EventPump()
    for task_id, (_, label) in zip(owner_tasks, labeled, strict=True):
        api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice(label)})
    pump.drain()
    [run] = wait_until_idle(api, owned.json()["id"], runs=1)
    assert run["status"] == "completed", run
    before = served_choices(api, owner_pid, owner_held)
    assert all(before) and endpoint_config() == run["model_version"]

    # An outsider (a manager of another project) registers B's endpoint: it predicts, read-only.
    _, outsider = make_user("outsider@example.com", "manager")
    pid = create_project(outsider, label_config=SENTIMENT_CONFIG, start_training_on_annotation_update=True)[
        "id"
    ]
    tasks = import_(outsider, pid, [{"data": {"text": t}} for t, _ in labeled])["task_ids"]
    response = register_endpoint(outsider, pid)
    assert response.status_code == 201, response.text
    theirs = response.json()
    assert theirs["read_only"] is True and theirs["state"] == "CO"
    assert outsider.get(f"/api/ml/{theirs['id']}").json()["read_only"] is True
    assert retrieve(outsider, pid)["processed_items"] == len(tasks)  # prediction is allowed

    refused = outsider.post(f"/api/ml/{theirs['id']}/train")
    assert refused.status_code == 403, refused.text
    assert "read-only" in refused.json()["detail"] and f"project {owner_pid}" in refused.json()["detail"]
    # Inverted labels, annotated one by one: no run starts on a read-only backend.
    flipped = {"Positive": "Negative", "Negative": "Positive"}
    for task_id, (_, label) in zip(tasks, labeled, strict=True):
        outsider.post(f"/api/tasks/{task_id}/annotations", json={"result": choice(flipped[label])})
    pump.drain()
    assert outsider.get(f"/api/ml/{theirs['id']}/trainings").json() == []

    # B is served what it was, by the model it trained.
    assert endpoint_config() == run["model_version"]
    assert api.get(f"/api/ml/{owned.json()['id']}").json()["model_version"] == run["model_version"]
    assert served_choices(api, owner_pid, owner_held) == before

    # Deleting B's backend releases the endpoint: the outsider's old backend stays read-only (it says
    # why), and a backend registered now owns it.
    assert api.delete(f"/api/ml/{owned.json()['id']}").status_code == 204
    released = outsider.post(f"/api/ml/{theirs['id']}/train")
    assert released.status_code == 403 and "released" in released.json()["detail"]
    again = register_endpoint(outsider, pid)
    assert again.status_code == 201 and again.json()["read_only"] is False
    started = []
    training.use_local_runner(started.append)
    try:
        assert outsider.post(f"/api/ml/{again.json()['id']}/train").status_code == 200
    finally:
        training.use_local_runner(builtin_endpoint)
    assert len(started) == 1


def test_two_projects_racing_for_an_endpoint_give_it_to_one(api, builtin_endpoint):
    from concurrent.futures import ThreadPoolExecutor

    pids = [create_project(api, label_config=SENTIMENT_CONFIG)["id"] for _ in range(4)]
    with ThreadPoolExecutor(len(pids)) as pool:
        answers = list(pool.map(lambda pid: register_endpoint(api, pid), pids))
    assert [a.status_code for a in answers] == [201] * len(pids)
    assert sorted(a.json()["read_only"] for a in answers) == [False, True, True, True]


def test_the_prepare_step_refuses_a_run_whose_project_lost_the_endpoint(api, builtin_endpoint):
    """A run started while its project owned the endpoint, which another project owns by the time the
    run's first step runs (as a Step Functions execution may start late): it fails there, untrained."""
    from functions.services import training
    from functions.store import ml_endpoints

    pid = create_project(api, label_config=SENTIMENT_CONFIG)["id"]
    ids = import_(api, pid, [{"data": {"text": t}} for t, _ in reviews(8)])["task_ids"]
    for task_id, (_, label) in zip(ids, reviews(8), strict=True):
        api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice(label)})
    backend_id = register_endpoint(api, pid).json()["id"]
    started = []
    training.use_local_runner(started.append)
    try:
        assert api.post(f"/api/ml/{backend_id}/train").status_code == 200
    finally:
        training.use_local_runner(builtin_endpoint)
    other = create_project(api, label_config=SENTIMENT_CONFIG)["id"]
    ml_endpoints.release("us-east-1", ENDPOINT, pid)
    assert ml_endpoints.claim("us-east-1", ENDPOINT, other, backend_id + 1000)

    builtin_endpoint.run(started[0]["training_id"])
    [run] = api.get(f"/api/ml/{backend_id}/trainings").json()
    assert run["status"] == "failed" and f"belongs to project {other}" in run["error"]
    assert endpoint_config() == "builtin-initial"


def test_two_projects_on_the_builtin_http_server_learn_separately(api, allow_local, tmp_path):  # noqa: F811
    """Both projects register the same built-in model server as an `http` backend. One project's
    annotations reach the server as Label Studio's webhook events and it is trained by hand through the
    API: it is served its model, the other project still gets none, and its backend's version is
    untouched."""
    from functions.services import training

    labeled, held_out = reviews(30, seed=5), reviews(10, seed=77)
    with model_server("text_classifier", tmp_path / "model") as url:
        projects = {}
        for name in ("trained", "untouched"):
            project = create_project(api, label_config=SENTIMENT_CONFIG)
            tasks = import_(api, project["id"], [{"data": {"text": t}} for t, _ in held_out])["task_ids"]
            ml = api.post("/api/ml", json={"project": project["id"], "url": url, "title": "builtin"})
            assert ml.status_code == 201, ml.text
            projects[name] = (project, tasks, ml.json())
        project, tasks, ml = projects["trained"]
        for i, (text, label) in enumerate(labeled):
            event = {
                "action": "ANNOTATION_CREATED",
                "annotation": {"id": 5000 + i, "result": choice(label)},
                "task": {"id": 5000 + i, "data": {"text": text}},
                "project": {"id": project["id"], "label_config": SENTIMENT_CONFIG},
            }
            assert httpx.post(f"{url}/webhook", json=event).status_code == 201
        started = []
        training.use_local_runner(started.append)
        try:
            assert api.post(f"/api/ml/{ml['id']}/train").status_code == 200
        finally:
            training.use_local_runner(None)
        LocalTrainingRunner(model_dir=tmp_path).run(started[0]["training_id"])
        [run] = api.get(f"/api/ml/{ml['id']}/trainings").json()
        assert run["status"] == "completed" and run["model_version"].startswith("text_classifier-"), run
        assert retrieve(api, project["id"])["processed_items"] == len(tasks)
        right = sum(
            predictions_of(api, task_id)[0]["result"][0]["value"]["choices"] == [label]
            for task_id, (_, label) in zip(tasks, held_out, strict=True)
        )
        assert right >= 7

        other, other_tasks, other_ml = projects["untouched"]
        assert retrieve(api, other["id"])["processed_items"] == 0  # untrained: it abstains
        assert all(predictions_of(api, task_id) == [] for task_id in other_tasks)
        assert api.get(f"/api/ml/{other_ml['id']}").json()["model_version"] == "text_classifier-untrained"


def test_in_aws_a_run_is_an_execution_of_the_training_state_machine(api, allow_local, backend, monkeypatch):  # noqa: F811
    from functions.store.aws_clients import client
    from infra.local_stack import apply_settings

    machine = client("stepfunctions").create_state_machine(
        name="labelstack-training",
        definition=json.dumps({"StartAt": "Prepare", "States": {"Prepare": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/training",
    )["stateMachineArn"]
    monkeypatch.setenv("LABELSTACK_TRAINING_STATE_MACHINE_ARN", machine)
    apply_settings({})
    try:
        pid = create_project(api)["id"]
        ml = api.post("/api/ml", json={"project": pid, "url": backend.url, "title": "kw"}).json()
        assert api.post(f"/api/ml/{ml['id']}/train").status_code == 200
    finally:
        monkeypatch.delenv("LABELSTACK_TRAINING_STATE_MACHINE_ARN")
        apply_settings({})
    [run] = api.get(f"/api/ml/{ml['id']}/trainings").json()
    [execution] = client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]
    assert run["execution"] == execution["executionArn"]
    assert execution["name"] == f"labelstack-ml{ml['id']}-run{run['id']}"
    described = client("stepfunctions").describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == {"training_id": run["id"]}
