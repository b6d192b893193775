"""Faulty ML backends, through the real app: a real process on 127.0.0.1 (tests/ml/fault_backend.py)
fails in one way per path. For each fault, over both backend kinds: retrieval, the test prediction and
interactive pre-annotation answer 200 with the reason, nothing is stored, the backend shows state ER
with the reason (also after reading it, which checks /health and /setup again), labeling goes on, and
once the backend answers correctly again it is back to CO."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from infra.local_stack import create_emulated_endpoint
from tests.api.test_ml_backends import allow_local, predictions_of, project_with_tasks, retrieve  # noqa: F401
from tests.ml.fault_backend import FAULTS
from tests.ml.harness import BackendProcess

TIMEOUT = 2.0  # the backend's `timeout` field in these tests: a hanging backend is given up on after it

# What the reason says, per fault (lower case).
REASONS = {
    "hang": "timed out",
    "reset": "connection reset",
    "html": "not json",
    "http500": "500",
    "wrong-shape": '"results" list',
    "truncated": "cut off after",
    "unknown-from-name": '"not_in_config" is not a control tag',
    "unknown-to-name": '"image" is not an object tag',
    "unknown-label": '"maybe" is not a choice',
    "wrong-type": '"rectanglelabels" does not match',
    "nan-score": "score",
    "infinite-score": "score",
    "huge-score": "score",
    "junk": "not json",
    "deep-nesting": "nesting is deeper",
    "deep-value": "nesting is deeper",
}


@pytest.fixture(scope="module")
def fault_server(tmp_path_factory):
    process = BackendProcess("tests.ml.fault_backend", tmp_path_factory.mktemp("unused"))
    yield process
    process.stop()


def heal(server: BackendProcess, fault: str, healed: bool = True) -> None:
    server._call("POST", "/_heal", {"fault": fault, "healed": healed})


@pytest.fixture
def runtime_on_fault_server(aws, fault_server, monkeypatch):
    from infra.local_stack import apply_settings

    monkeypatch.setenv("LABELSTACK_SAGEMAKER_RUNTIME_URL", fault_server.url)
    apply_settings({})
    yield
    monkeypatch.delenv("LABELSTACK_SAGEMAKER_RUNTIME_URL")
    apply_settings({})


def register(api, pid: int, kind: str, fault: str, server: BackendProcess) -> dict:
    fields: dict = {"project": pid, "title": fault, "is_interactive": True, "timeout": TIMEOUT}
    if kind == "http":
        fields["url"] = f"{server.url}/{fault}"
    else:
        create_emulated_endpoint(fault, config_name=f"{fault}-config", model_name=f"{fault}-model")
        fields.update(kind="sagemaker", endpoint_name=fault, region="us-east-1")
    response = api.post("/api/ml", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


def test_the_fault_list_is_the_reasons_list():
    assert set(FAULTS) == set(REASONS)


@pytest.mark.usefixtures("allow_local", "runtime_on_fault_server")
@pytest.mark.parametrize("kind", ["http", "sagemaker"])
@pytest.mark.parametrize("fault", FAULTS)
def test_a_faulty_backend_is_in_error_stores_nothing_and_recovers(api, fault_server, kind, fault):
    reason = REASONS[fault]
    pid, ids = project_with_tasks(api, ["good", "bad", "great"])
    heal(fault_server, fault)  # connected while it works (a sagemaker backend is test-invoked)
    ml = register(api, pid, kind, fault, fault_server)
    heal(fault_server, fault, healed=False)

    started = time.monotonic()
    body = retrieve(api, pid)
    elapsed = time.monotonic() - started
    assert body["processed_items"] == 0, body
    assert body["detail"].startswith("Retrieved 0 predictions") and reason in body["detail"].lower(), body
    assert reason in body["error"].lower()
    assert elapsed < TIMEOUT + 3, f"retrieval took {elapsed:.1f} s with a {TIMEOUT} s timeout"
    assert api.get(f"/api/projects/{pid}").json()["total_predictions_number"] == 0
    assert all(predictions_of(api, i) == [] for i in ids)
    # Reading the backend checks /health and /setup, which work: the prediction failure stays shown.
    seen = api.get(f"/api/ml/{ml['id']}").json()
    assert seen["state"] == "ER" and reason in seen["error_message"].lower(), seen
    assert api.get("/api/ml", params={"project": pid}).json()[0]["state"] == "ER"

    test = api.post(f"/api/ml/{ml['id']}/predict/test", params={"random": "true"})
    assert test.status_code == 200, test.text
    assert test.json()["status"] == 500 and reason in test.json()["error_message"].lower()
    interactive = api.post(f"/api/ml/{ml['id']}/interactive-annotating", json={"task": ids[0]})
    assert interactive.status_code == 200, interactive.text
    assert reason in interactive.json()["errors"][0].lower()
    assert api.get(f"/api/projects/{pid}").json()["total_predictions_number"] == 0

    # Labeling goes on.
    task = api.get(f"/api/projects/{pid}/next").json()
    done = api.post(
        f"/api/tasks/{task['id']}/annotations",
        json={
            "result": [
                {
                    "from_name": "sentiment",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["Positive"]},
                }
            ]
        },
    )
    assert done.status_code == 201, done.text

    heal(fault_server, fault)
    again = retrieve(api, pid)
    assert again["processed_items"] == 3 and "error" not in again, again
    back = api.get(f"/api/ml/{ml['id']}").json()
    assert (back["state"], back["error_message"]) == ("CO", None)
    assert predictions_of(api, ids[0])[0]["result"][0]["value"] == {"choices": ["Positive"]}


def test_the_fault_server_really_misbehaves(fault_server):
    """The faults are what they claim, seen from a plain HTTP client."""
    for fault in FAULTS:
        heal(fault_server, fault, healed=False)
    task = {"tasks": [{"id": 1, "data": {"text": "x"}}]}
    html = httpx.post(f"{fault_server.url}/html/predict", json=task, timeout=5)
    assert html.status_code == 200 and html.headers["content-type"] == "text/html"
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{fault_server.url}/hang/predict", json=task, timeout=0.5)
    with pytest.raises(httpx.HTTPError):
        httpx.post(f"{fault_server.url}/reset/predict", json=task, timeout=5)
    with pytest.raises(httpx.HTTPError):
        httpx.post(f"{fault_server.url}/truncated/predict", json=task, timeout=5)
    junk = httpx.post(f"{fault_server.url}/junk/predict", json=task, timeout=10)
    assert len(junk.content) == 5 * 1024 * 1024
    ok = httpx.post(f"{fault_server.url}/ok/predict", json=task, timeout=5).json()
    assert ok["results"][0]["result"][0]["value"] == {"choices": ["Positive"]}


def predict_calls(server: BackendProcess, fault: str) -> int:
    return server._call("GET", "/_calls").get(fault, 0)


@pytest.mark.usefixtures("allow_local")
def test_prediction_on_load_records_a_failure_and_asks_again_only_after_a_while(
    api, fault_server, monkeypatch
):
    from infra.local_stack import apply_settings

    pid, ids = project_with_tasks(api, ["good", "bad", "great"])
    ml = register(api, pid, "http", "html", fault_server)
    heal(fault_server, "html", healed=False)
    api.patch(f"/api/projects/{pid}", json={"evaluate_predictions_automatically": True})
    before = predict_calls(fault_server, "html")
    assert api.get(f"/api/tasks/{ids[0]}").json()["predictions"] == []  # the read never fails
    seen = api.get(f"/api/ml/{ml['id']}").json()
    assert seen["state"] == "ER" and "not json" in seen["error_message"].lower()
    # A failed backend is not waited on for every task an annotator opens.
    assert api.get(f"/api/tasks/{ids[1]}").json()["predictions"] == []
    assert api.get(f"/api/projects/{pid}/next").status_code == 200
    assert predict_calls(fault_server, "html") == before + 1
    # Once LABELSTACK_ML_RETRY_AFTER has passed it is asked again; it works now, so it is back to CO.
    monkeypatch.setenv("LABELSTACK_ML_RETRY_AFTER", "0")
    apply_settings({})
    heal(fault_server, "html")
    assert [p["model_version"] for p in api.get(f"/api/tasks/{ids[1]}").json()["predictions"]] == [
        "fault-model-1"
    ]
    assert api.get(f"/api/ml/{ml['id']}").json()["state"] == "CO"
    monkeypatch.delenv("LABELSTACK_ML_RETRY_AFTER")
    apply_settings({})


@pytest.mark.usefixtures("allow_local")
def test_a_background_job_on_a_hanging_backend_ends_with_the_reason(api, fault_server, monkeypatch):
    from infra.local_stack import apply_settings

    monkeypatch.setenv("LABELSTACK_ML_SYNC_PREDICT_LIMIT", "2")
    apply_settings({})
    pid, ids = project_with_tasks(api, ["good", "bad", "great"])
    heal(fault_server, "hang", healed=False)
    fields = {"project": pid, "url": f"{fault_server.url}/hang", "title": "hang", "timeout": 1.0}
    ml = api.post("/api/ml", json=fields).json()
    threads_before = set(threading.enumerate())
    body = retrieve(api, pid)
    assert "job" in body
    for thread in set(threading.enumerate()) - threads_before:
        thread.join(timeout=30)
    job = api.get(f"/api/ml/{ml['id']}/jobs/{body['job']}").json()
    assert job["status"] == "failed" and "timed out after 1 s" in job["error"], job
    assert job["detail"].startswith("Retrieved 0 predictions: the ML backend failed:"), job
    assert api.get(f"/api/ml/{ml['id']}").json()["state"] == "ER"
    assert all(predictions_of(api, i) == [] for i in ids)
