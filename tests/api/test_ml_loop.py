"""The ML loop through the real app, against real label-studio-ml (PyPI 1.0.9) backend processes on
127.0.0.1: connecting an `http` backend registers Label Studio's webhook to its `/webhook`, annotations
reach it there (the local event and delivery pumps, in-process), START_TRAINING carries Label Studio's
project, training follows created and updated annotations, the project's model versions are listed and
checked as Label Studio does, and the label stream pre-labels with the project's default settings."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest

from infra.delivery_pump import DeliveryPump
from infra.event_pump import EventPump
from tests.api.parallel import in_parallel, reads_meet
from tests.api.test_ml_backends import allow_local, backend, backend_process  # noqa: F401
from tests.api.test_projects import create_project
from tests.api.test_tasks import import_
from tests.ml.harness import BackendProcess

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "ls-samples"


def choice(label: str) -> list[dict]:
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


def prediction(version: str, label: str = "Positive", score: float = 0.5) -> dict:
    return {"model_version": version, "score": score, "result": choice(label)}


def connect(api, pid: int, url: str, title: str = "kw", **fields) -> dict:
    answer = api.post("/api/ml", json={"project": pid, "url": url, "title": title, **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()


def hooks_of(api, pid: int) -> list[dict]:
    return api.get("/api/webhooks", params={"project": pid}).json()


def pump() -> int:
    """Hand the stream's changes to the subscribers, then deliver what they queued."""
    EventPump().drain()
    return DeliveryPump(retry_after=0).drain()


def webhook_actions(process) -> list[str]:
    return [c["body"]["action"] for c in process.calls("/webhook")]


@pytest.fixture
def second_backend(tmp_path):
    process = BackendProcess("tests.ml.keyword_backend", tmp_path / "second")
    yield process
    process.stop()


def test_connecting_registers_label_studios_webhook_and_annotations_reach_the_backend(
    api,
    allow_local,  # noqa: F811
    backend,  # noqa: F811
):
    pid = create_project(api)["id"]
    [task_id] = import_(api, pid, [{"data": {"text": "good"}}])["task_ids"]
    ml = connect(api, pid, backend.url + "/")
    [hook] = hooks_of(api, pid)
    assert hook["url"] == f"{backend.url}/webhook" and hook["ml_backend"] == ml["id"]
    assert (hook["send_payload"], hook["send_for_all_actions"], hook["headers"], hook["actions"]) == (
        True,
        True,
        {},
        [],
    )
    # Connecting made the model what annotators see (Label Studio sets its title, the project had none).
    assert api.get(f"/api/projects/{pid}").json()["model_version"] == "kw"

    backend.reset()
    annotation = api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice("Positive")}).json()
    assert pump() == 1
    api.patch(f"/api/annotations/{annotation['id']}", json={"result": choice("Negative")})
    assert pump() == 1
    assert webhook_actions(backend) == ["ANNOTATION_CREATED", "ANNOTATION_UPDATED"]
    created, updated = (c["body"] for c in backend.calls("/webhook"))
    assert created["annotation"]["id"] == annotation["id"] and created["task"]["id"] == task_id
    assert updated["annotation"]["result"][0]["value"]["choices"] == ["Negative"]
    # What the SDK's fit() needs: the project's id and label config.
    assert updated["project"]["id"] == pid and "<Choices" in updated["project"]["label_config"]
    [delivery] = api.get(f"/api/webhooks/{hook['id']}/deliveries", params={"limit": 1}).json()
    assert (delivery["status"], delivery["response_status"]) == ("delivered", 201)


def test_the_webhook_follows_the_backend_and_goes_with_it_and_users_webhooks_stay(
    api,
    allow_local,  # noqa: F811
    backend,  # noqa: F811
    second_backend,
):
    pid = create_project(api)["id"]
    # A webhook someone registered for the first URL: Label Studio makes no second one.
    users = api.post("/api/webhooks", json={"project": pid, "url": f"{backend.url}/webhook"}).json()
    first = connect(api, pid, backend.url)
    assert [h["id"] for h in hooks_of(api, pid)] == [users["id"]]
    second = connect(api, pid, second_backend.url, title="second")
    made = next(h for h in hooks_of(api, pid) if h["ml_backend"] == second["id"])
    assert made["url"] == f"{second_backend.url}/webhook"

    # The second backend moves to the first's URL: its webhook is not needed there (the user's serves
    # it) and goes; moved back, it gets one again.
    moved = api.patch(f"/api/ml/{second['id']}", json={"url": backend.url})
    assert moved.status_code == 200, moved.text
    assert [h["id"] for h in hooks_of(api, pid)] == [users["id"]]
    api.patch(f"/api/ml/{second['id']}", json={"url": second_backend.url})
    again = next(h for h in hooks_of(api, pid) if h["ml_backend"] == second["id"])
    assert again["url"] == f"{second_backend.url}/webhook"

    # The first backend moves to a URL of its own: its webhook is made there; the user's stays.
    api.patch(f"/api/ml/{first['id']}", json={"url": second_backend.url + "/"})
    assert {(h["id"] == users["id"], h["url"]) for h in hooks_of(api, pid)} == {
        (True, f"{backend.url}/webhook"),
        (False, f"{second_backend.url}/webhook"),
    }
    # Deleting: the webhook passes to the backend still at its URL, then goes with the last of them.
    assert api.delete(f"/api/ml/{second['id']}").status_code == 204
    [(hook_owner, hook_url)] = [(h["ml_backend"], h["url"]) for h in hooks_of(api, pid) if h["ml_backend"]]
    assert (hook_owner, hook_url) == (first["id"], f"{second_backend.url}/webhook")
    assert api.delete(f"/api/ml/{first['id']}").status_code == 204
    assert [h["id"] for h in hooks_of(api, pid)] == [users["id"]]


def test_a_webhook_moved_by_its_user_is_theirs(api, allow_local, backend, second_backend):  # noqa: F811
    pid = create_project(api)["id"]
    ml = connect(api, pid, backend.url)
    [hook] = hooks_of(api, pid)
    changed = api.patch(f"/api/webhooks/{hook['id']}", json={"url": f"{second_backend.url}/hook"})
    assert changed.status_code == 200 and changed.json()["ml_backend"] is None
    api.delete(f"/api/ml/{ml['id']}")
    assert [h["id"] for h in hooks_of(api, pid)] == [hook["id"]]


def test_a_backend_that_trains_before_answering_gets_each_event_once(
    api,
    allow_local,  # noqa: F811
    backend,  # noqa: F811
    monkeypatch,
):
    from infra.local_stack import apply_settings

    monkeypatch.setenv("LABELSTACK_WEBHOOK_TIMEOUT", "1")
    apply_settings({})
    pid = create_project(api)["id"]
    [task_id] = import_(api, pid, [{"data": {"text": "good"}}])["task_ids"]
    connect(api, pid, backend.url)
    [hook] = hooks_of(api, pid)
    users = api.post("/api/webhooks", json={"project": pid, "url": f"{backend.url}/webhook/"}).json()
    backend.reset("slow_webhook")
    api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice("Positive")})
    EventPump().drain()
    DeliveryPump(retry_after=0).drain()
    DeliveryPump(retry_after=0).drain()
    [sent] = api.get(f"/api/webhooks/{hook['id']}/deliveries").json()
    assert (sent["status"], sent["attempts"]) == ("sent", 1) and "not sent again" in sent["error"]
    # Anyone else's receiver that does not answer is asked again (it may not have got it).
    [retried] = api.get(f"/api/webhooks/{users['id']}/deliveries").json()
    assert retried["attempts"] >= 2 and retried["status"] in ("retrying", "failed")


def test_start_training_sends_label_studios_project(api, allow_local, backend):  # noqa: F811
    from functions.services import training
    from infra.local_training import LocalTrainingRunner

    capture = json.loads((SAMPLES / "ml_start_training.json").read_text())
    pid = create_project(api)["id"]
    ml = connect(api, pid, backend.url)
    started: list[dict] = []
    training.use_local_runner(started.append)
    try:
        backend.reset()
        assert api.post(f"/api/ml/{ml['id']}/train").status_code == 200
        LocalTrainingRunner(model_dir=backend.url).run(started[0]["training_id"])
    finally:
        training.use_local_runner(None)
    [call] = backend.calls("/webhook")
    assert set(call["body"]) == set(capture["body"]) == {"action", "project"}
    assert call["body"]["action"] == "START_TRAINING"
    assert set(call["body"]["project"]) == set(capture["body"]["project"])
    sent = call["body"]["project"]
    assert (sent["id"], sent["created_by"], sent["model_version"]) == (pid, 1, "kw")
    assert sent["data_types"] == {"text": "Text"}


def test_training_starts_on_created_and_on_updated_annotations(api, allow_local, backend):  # noqa: F811
    from functions.services import training

    pid = create_project(api, start_training_on_annotation_update=True)["id"]
    [task_id] = import_(api, pid, [{"data": {"text": "good"}}])["task_ids"]
    ml = connect(api, pid, backend.url)
    started: list[dict] = []

    def finish(run: dict) -> None:  # the run's steps, done at once
        started.append(run)
        training.record_success(run["training_id"], "kw-2")

    training.use_local_runner(finish)
    try:
        annotation = api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice("Positive")}).json()
        EventPump().drain()
        api.patch(f"/api/annotations/{annotation['id']}", json={"result": choice("Negative")})
        EventPump().drain()
    finally:
        training.use_local_runner(None)
    runs = api.get(f"/api/ml/{ml['id']}/trainings").json()
    assert [(r["trigger"], r["status"]) for r in runs] == [("annotations", "completed")] * 2
    assert len(started) == 2


def test_model_versions_in_label_studios_shapes(api, allow_local, backend):  # noqa: F811
    pid = create_project(api)["id"]
    import_(api, pid, [{"data": {"text": "a"}, "predictions": [prediction("v1")]}])
    # Importing predictions chose their version for the project, which had none (Label Studio).
    assert api.get(f"/api/projects/{pid}").json()["model_version"] == "v1"
    ids = import_(
        api,
        pid,
        [
            {"data": {"text": "b"}, "predictions": [prediction("v1"), prediction("v2")]},
            {"data": {"text": "c"}, "predictions": [prediction("v2")]},
        ],
    )["task_ids"]
    assert api.get(f"/api/projects/{pid}").json()["model_version"] == "v1"  # it had one: kept
    url = f"/api/projects/{pid}/model-versions"
    assert list(api.get(url).json().items()) == [("v2", 2), ("v1", 2)]  # the latest first
    assert api.get(url, params={"limit": 1}).json() == {"v2": 2}

    ml = connect(api, pid, backend.url, title="live")
    assert api.get(f"/api/projects/{pid}").json()["model_version"] == "v1"  # not replaced by the backend
    extended = api.get(url, params={"extended": "true", "include_live_models": "true"}).json()
    assert [(s["model_version"], s["count"]) for s in extended["static"]] == [("v2", 2), ("v1", 2)]
    assert all(s["latest"].endswith("Z") for s in extended["static"])
    assert [(m["id"], m["title"]) for m in extended["live"]] == [(ml["id"], "live")]
    assert api.get(url, params={"extended": "1"}).json()["live"] is None

    # Deleting predictions and tasks takes them off the counts; a version nothing carries is gone, but
    # the project's own choice is listed with 0.
    for p in api.get("/api/predictions", params={"task": ids[0]}).json():
        assert api.delete(f"/api/predictions/{p['id']}").status_code == 204
    assert api.delete(f"/api/tasks/{ids[1]}").status_code == 204
    assert api.get(url).json() == {"v1": 1}
    api.patch(
        f"/api/predictions/{api.get('/api/predictions', params={'project': pid}).json()[0]['id']}",
        json={"model_version": "v3"},
    )
    assert api.get(url).json() == {"v3": 1, "v1": 0}


def test_the_projects_model_version_is_checked_and_follows_its_backend(api, allow_local, backend):  # noqa: F811
    pid = create_project(api)["id"]
    [task_id] = import_(api, pid, [{"data": {"text": "a"}}])["task_ids"]
    ml = connect(api, pid, backend.url, title="live")
    project_url = f"/api/projects/{pid}"
    assert api.get(project_url).json()["model_version"] == "live"

    unknown = api.patch(project_url, json={"model_version": "nowhere"})
    assert unknown.status_code == 400
    assert unknown.json()["validation_errors"] == {
        "model_version": ["Model version doesn't exist either as live model or as static predictions."]
    }
    api.post("/api/predictions", json={"task": task_id, **prediction("static-1")})
    assert api.patch(project_url, json={"model_version": "static-1"}).status_code == 200
    assert api.patch(project_url, json={"model_version": "live"}).status_code == 200
    assert api.patch(project_url, json={"model_version": ""}).status_code == 200
    assert api.patch(project_url, json={"model_version": "live"}).status_code == 200

    # Renaming the backend renames the project's choice, which would otherwise name nothing.
    assert api.patch(f"/api/ml/{ml['id']}", json={"title": "live-2"}).status_code == 200
    assert api.get(project_url).json()["model_version"] == "live-2"
    # A project on another version is left alone.
    api.patch(project_url, json={"model_version": "static-1"})
    api.patch(f"/api/ml/{ml['id']}", json={"title": "live-3"})
    assert api.get(project_url).json()["model_version"] == "static-1"
    # Deleting the backend it shows clears the choice.
    api.patch(project_url, json={"model_version": "live-3"})
    api.delete(f"/api/ml/{ml['id']}")
    assert api.get(project_url).json()["model_version"] == ""
    # Not showing predictions chooses none.
    api.patch(project_url, json={"model_version": "static-1"})
    hidden = api.patch(project_url, json={"show_collab_predictions": False}).json()
    assert (hidden["show_collab_predictions"], hidden["model_version"]) == (False, "")


def test_prelabeling_with_the_default_settings(api, allow_local, backend):  # noqa: F811
    pid = create_project(api)["id"]
    ids = import_(api, pid, [{"data": {"text": t}} for t in ("good", "meh", "great")])["task_ids"]
    version = connect(api, pid, backend.url)["model_version"]
    backend.reset()
    # The label stream asks the model for the task it hands out and shows its answer.
    first = api.get(f"/api/projects/{pid}/next").json()
    assert first["id"] == ids[0]
    assert [(p["model_version"], p["result"]) for p in first["predictions"]] == [
        (version, choice("Positive"))
    ]
    assert [c["tasks"] for c in backend.calls("/predict")] == [1]
    # Handed out again (the annotator still holds it): it has the current version's prediction already.
    assert [p["id"] for p in api.get(f"/api/projects/{pid}/next").json()["predictions"]] == [
        first["predictions"][0]["id"]
    ]
    assert len(backend.calls("/predict")) == 1
    # Opening a task without predictions asks too (Label Studio's task view).
    opened = api.get(f"/api/tasks/{ids[1]}").json()
    assert [p["result"] for p in opened["predictions"]] == [choice("Negative")]
    assert len(backend.calls("/predict")) == 2
    # A project that does not show predictions neither asks nor shows.
    api.patch(f"/api/projects/{pid}", json={"show_collab_predictions": False})
    assert api.get(f"/api/tasks/{ids[2]}").json()["predictions"] == []
    assert api.get(f"/api/projects/{pid}/next").json()["predictions"] == []
    assert len(backend.calls("/predict")) == 2


def test_a_model_that_learns_from_its_webhook_is_asked_once_per_new_version(api, allow_local, tmp_path):  # noqa: F811
    """The built-in text classifier as an `http` backend learns from the annotation events its webhook
    brings, and answers with a new model version: the label stream asks it for the next task and
    records that version, so opening the task again asks nothing more."""
    from tests.ml_endpoints.support import SENTIMENT_CONFIG, model_server, reviews

    labeled = reviews(6, seed=3)
    with model_server("text_classifier", tmp_path / "model") as url:
        pid = create_project(api, label_config=SENTIMENT_CONFIG)["id"]
        ids = import_(api, pid, [{"data": {"text": text}} for text, _ in labeled])["task_ids"]
        untrained = connect(api, pid, url, title="builtin")["model_version"]
        for task_id, (_, label) in list(zip(ids, labeled, strict=True))[1:]:
            api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice(label)})
        assert pump() == len(ids) - 1  # each annotation to the model's /webhook: it trains on them
        shown = api.get(f"/api/projects/{pid}/next").json()
        [fresh] = shown["predictions"]
        assert shown["id"] == ids[0] and fresh["model_version"] != untrained
        again = api.get(f"/api/projects/{pid}/next").json()
        assert [p["id"] for p in again["predictions"]] == [fresh["id"]]
        assert api.get(f"/api/tasks/{ids[0]}").json()["total_predictions"] == 1
        # (Reading the backend asks its /setup, which says the same.)
        assert api.get(f"/api/ml/{fresh['model']}").json()["model_version"] == fresh["model_version"]


def test_parallel_patches_of_a_backend_a_webhook_and_a_storage_all_land(
    api,
    allow_local,  # noqa: F811
    backend,  # noqa: F811
    monkeypatch,
):
    from functions.store import ml_backends as backend_store
    from functions.store import storages as storage_store
    from functions.store import webhooks as webhook_store
    from functions.store.aws_clients import client

    pid = create_project(api)["id"]
    ml = connect(api, pid, backend.url)
    ml_changes = {
        "title": "renamed",
        "description": "described",
        "is_interactive": True,
        "timeout": 7.5,
        "auto_update": False,
        "extra_params": {"k": 1},  # connects again: the rest of the location must be as connected
    }
    reads_meet(monkeypatch, backend_store, "get", parties=len(ml_changes))
    answers = in_parallel(
        [partial(api.patch, f"/api/ml/{ml['id']}", json={k: v}) for k, v in ml_changes.items()]
    )
    assert [a.status_code for a in answers] == [200] * len(ml_changes), [a.text for a in answers]
    stored = api.get(f"/api/ml/{ml['id']}").json()
    assert {k: stored[k] for k in ml_changes} == ml_changes
    assert backend.calls("/setup")[-1]["extra_params"] == '{"k": 1}'

    hook = api.post("/api/webhooks", json={"project": pid, "url": f"{backend.url}/other"}).json()
    hook_changes = {
        "send_payload": False,
        "send_for_all_actions": False,
        "actions": ["ANNOTATION_CREATED"],
        "is_active": False,
        "headers": {"X-Team": "ml"},
        "url": f"{backend.url}/moved",
    }
    reads_meet(monkeypatch, webhook_store, "get", parties=len(hook_changes))
    answers = in_parallel(
        [partial(api.patch, f"/api/webhooks/{hook['id']}", json={k: v}) for k, v in hook_changes.items()]
    )
    assert [a.status_code for a in answers] == [200] * len(hook_changes), [a.text for a in answers]
    stored = api.get(f"/api/webhooks/{hook['id']}").json()
    assert {k: stored[k] for k in hook_changes} == {**hook_changes, "headers": {"X-Team": "********"}}

    client("s3").create_bucket(Bucket="parallel-target")
    storage = api.post(
        "/api/storages/export/s3", json={"project": pid, "bucket": "parallel-target", "title": "t"}
    ).json()
    storage_changes = {"title": "renamed", "description": "described", "can_delete_objects": True}
    reads_meet(monkeypatch, storage_store, "get", parties=len(storage_changes))
    answers = in_parallel(
        [
            partial(api.patch, f"/api/storages/export/s3/{storage['id']}", json={k: v})
            for k, v in storage_changes.items()
        ]
    )
    assert [a.status_code for a in answers] == [200] * len(storage_changes), [a.text for a in answers]
    stored = api.get(f"/api/storages/export/s3/{storage['id']}").json()
    assert {k: stored[k] for k in storage_changes} == storage_changes
