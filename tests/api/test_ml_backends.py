"""ML backends through the real app, against a real backend process on 127.0.0.1: a model written with
PyPI's label-studio-ml (tests/ml/keyword_backend.py) for the `http` kind; moto and a local SageMaker
runtime server for the `sagemaker` kind."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import requests

from infra.local_stack import create_emulated_endpoint
from tests.api.test_projects import create_project
from tests.api.test_tasks import import_
from tests.ml.harness import BackendProcess

DM_ALL = {"selectedItems": {"all": True, "excluded": []}}


@pytest.fixture(scope="module")
def backend_process(tmp_path_factory):
    process = BackendProcess("tests.ml.keyword_backend", tmp_path_factory.mktemp("model"))
    yield process
    process.stop()


@pytest.fixture
def backend(backend_process):
    backend_process.reset()
    return backend_process


@pytest.fixture
def allow_local(aws, monkeypatch):
    from infra.local_stack import apply_settings

    monkeypatch.setenv("LABELSTACK_ALLOWED_HOSTS", "127.0.0.1")
    monkeypatch.setenv("LABELSTACK_ML_BATCH_SIZE", "4")
    monkeypatch.setenv("LABELSTACK_ML_RETRIES", "0")
    apply_settings({})
    yield
    monkeypatch.delenv("LABELSTACK_ALLOWED_HOSTS")
    apply_settings({})


def project_with_tasks(api, texts):
    pid = create_project(api)["id"]
    ids = import_(api, pid, [{"data": {"text": t}} for t in texts])["task_ids"]
    return pid, ids


def register(api, pid, url, **fields):
    return api.post(
        "/api/ml", json={"project": pid, "url": url, "title": "kw", "is_interactive": True, **fields}
    )


def retrieve(api, pid, selected=None):
    response = api.post(
        "/api/dm/actions",
        params={"id": "retrieve_tasks_predictions", "project": pid},
        json={"selectedItems": selected or DM_ALL["selectedItems"]},
    )
    assert response.status_code == 200, response.text
    return response.json()


def predictions_of(api, task_id):
    return api.get("/api/predictions", params={"task": task_id}).json()


def test_create_connects_with_health_then_setup_and_answers_label_studio_shape(api, allow_local, backend):
    pid, _ = project_with_tasks(api, ["good"])
    response = register(api, pid, backend.url, extra_params={"threshold": 0.5}, description="kw model")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["state"], body["readable_state"], body["model_version"]) == ("CO", "Connected", "INITIAL")
    assert body["kind"] == "http" and body["basic_auth_pass_is_set"] is False and body["project"] == pid
    assert set(body) >= {
        "id",
        "url",
        "title",
        "description",
        "auth_method",
        "basic_auth_user",
        "extra_params",
        "is_interactive",
        "auto_update",
        "timeout",
        "error_message",
        "created_at",
        "updated_at",
    }
    assert [c["path"] for c in backend.calls()] == ["/health", "/setup"]
    assert backend.calls("/setup")[0]["extra_params"] == json.dumps({"threshold": 0.5})  # a JSON string
    listed = api.get("/api/ml", params={"project": pid}).json()
    assert [b["id"] for b in listed] == [body["id"]]
    patched = api.patch(f"/api/ml/{body['id']}", json={"title": "renamed", "is_interactive": False})
    assert patched.status_code == 200 and patched.json()["title"] == "renamed"
    assert api.delete(f"/api/ml/{body['id']}").status_code == 204
    assert api.get(f"/api/ml/{body['id']}").status_code == 404


def test_a_backend_that_fails_to_connect_is_a_400_and_a_later_failure_is_recorded(
    api, allow_local, backend, tmp_path
):
    pid, _ = project_with_tasks(api, ["good"])
    from tests.ml.harness import free_port

    down = register(api, pid, f"http://127.0.0.1:{free_port()}")
    assert down.status_code == 400
    assert "health check failed" in down.json()["validation_errors"]["url"][0]
    assert api.get("/api/ml", params={"project": pid}).json() == []
    # A backend that later goes away: reading it records the state with the reason.
    other = BackendProcess("tests.ml.keyword_backend", tmp_path)
    created = register(api, pid, other.url).json()
    other.stop()
    seen = api.get(f"/api/ml/{created['id']}").json()
    assert seen["state"] == "DI" and "connection refused" in seen["error_message"]
    missing = api.post("/api/ml", json={"project": pid})
    assert missing.status_code == 400 and "url" in missing.json()["validation_errors"]


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3:9090",
        "http://[::ffff:169.254.169.254]/",
        "file:///etc/passwd",
        "http://localhost:1",
    ],
)
def test_ssrf_refusals_name_url(api, allow_local, url):
    pid, _ = project_with_tasks(api, ["x"])
    response = register(api, pid, url)
    assert response.status_code == 400, response.text
    assert "url" in response.json()["validation_errors"]


def test_localhost_is_refused_unless_allowed(api, aws, backend):
    pid, _ = project_with_tasks(api, ["x"])
    response = register(api, pid, backend.url)
    assert response.status_code == 400 and "private" in response.json()["validation_errors"]["url"][0]
    assert backend.calls() == []  # nothing was sent


def test_a_redirect_to_a_private_address_is_refused(api, allow_local, backend):
    pid, _ = project_with_tasks(api, ["x"])
    response = register(api, pid, f"{backend.url}/_redirect?to=http://169.254.169.254/latest")
    assert response.status_code == 400
    assert "169.254.169.254" in response.json()["validation_errors"]["url"][0]
    assert [c["path"] for c in backend.calls()] == ["/_redirect"]


def test_retrieve_predictions_in_batches_and_skip_the_current_version(api, allow_local, backend, monkeypatch):
    texts = ["good one", "bad", "I love it", "meh", "great", "awful", "good", "no", "fine", "great stuff"]
    pid, ids = project_with_tasks(api, texts)
    ml = register(api, pid, backend.url).json()
    backend.reset()
    body = retrieve(api, pid)
    assert body["processed_items"] == 10 and body["detail"] == "Retrieved 10 predictions"
    sizes = [c["tasks"] for c in backend.calls("/predict")]
    assert sizes == [4, 4, 2]  # LABELSTACK_ML_BATCH_SIZE=4: batches, not one call nor one per task
    task = api.get(f"/api/tasks/{ids[0]}").json()
    prediction = task["predictions"][0]
    assert prediction["model_version"] == "INITIAL" and prediction["score"] == 0.9
    assert prediction["model"] == ml["id"] and prediction["result"][0]["value"] == {"choices": ["Positive"]}
    assert task["total_predictions"] == 1
    assert api.get(f"/api/tasks/{ids[1]}").json()["predictions"][0]["result"][0]["value"]["choices"] == [
        "Negative"
    ]
    assert api.get(f"/api/projects/{pid}").json()["total_predictions_number"] == 10
    # Again: every task has a prediction of the current version, so nothing is sent.
    backend.reset()
    again = retrieve(api, pid)
    assert again["processed_items"] == 0 and again["skipped_items"] == 10
    assert backend.calls("/predict") == []
    # Uncertainty sampling reads the stored scores of the project's model version: the least certain
    # (Negative, 0.6) comes first. (Connecting chose the backend's title, which no score is stored under,
    # as in Label Studio; choosing the version refreshes the queue, here before the PATCH answers.)
    from functions.services import jobs

    monkeypatch.setattr(jobs, "submit", jobs.run)
    api.patch(f"/api/projects/{pid}", json={"sampling": "Uncertainty sampling", "model_version": "INITIAL"})
    first = api.get(f"/api/projects/{pid}/next").json()
    assert first["predictions"][0]["score"] == 0.6


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("garbage", "not JSON"),
        ("wrong_count", "3 results for 4 tasks"),
        ("bad_region", "not_in_config"),
        ("slow", "timed out"),
    ],
)
def test_a_failing_backend_stores_nothing_and_goes_to_error_while_labeling_works(
    api, allow_local, backend, mode, reason
):
    pid, ids = project_with_tasks(api, ["good", "bad", "great", "no", "love"])
    ml = register(api, pid, backend.url, timeout=1.0).json()
    backend.reset(mode)
    body = retrieve(api, pid)
    assert body["processed_items"] == 0 and reason in body["error"]
    assert api.get(f"/api/projects/{pid}").json()["total_predictions_number"] == 0
    assert all(predictions_of(api, i) == [] for i in ids)
    stored = api.get("/api/ml", params={"project": pid}).json()[0]  # the list shows the stored state
    assert stored["state"] == "ER" and reason in stored["error_message"]
    assert api.get(f"/api/projects/{pid}/next").status_code == 200
    # Reading the backend checks /health and /setup, which still work; that says nothing about /predict,
    # so the failure stays shown until a prediction succeeds.
    assert api.get(f"/api/ml/{ml['id']}").json()["state"] == "ER"
    backend.reset()
    assert retrieve(api, pid)["processed_items"] == 5
    assert api.get(f"/api/ml/{ml['id']}").json()["state"] == "CO"


def test_a_backend_down_during_retrieval(api, allow_local, tmp_path):
    other = BackendProcess("tests.ml.keyword_backend", tmp_path)
    pid, ids = project_with_tasks(api, ["good", "bad"])
    ml = register(api, pid, other.url).json()
    other.stop()
    body = retrieve(api, pid)
    assert body["processed_items"] == 0 and "refused" in body["error"]
    assert api.get("/api/ml", params={"project": pid}).json()[0]["state"] == "ER"
    assert predictions_of(api, ids[0]) == []
    assert api.get(f"/api/projects/{pid}/next").status_code == 200
    assert api.get(f"/api/ml/{ml['id']}").json()["state"] == "DI"


def test_interactive_annotating_versions_train_and_predict_test(api, allow_local, backend):
    pid, ids = project_with_tasks(api, ["some text"])
    ml = register(api, pid, backend.url).json()
    context = {
        "result": [
            {
                "from_name": "sentiment",
                "to_name": "text",
                "type": "labels",
                "value": {"start": 0, "end": 4, "labels": ["Positive"]},
            }
        ]
    }
    response = api.post(
        f"/api/ml/{ml['id']}/interactive-annotating", json={"task": ids[0], "context": context}
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["result"][0]["value"]["choices"] == ["Positive"] and data["score"] == 0.9
    assert backend.calls("/predict")[-1]["context"] == context
    # The 1.0.x SDK lists versions only by POST: GET falls back as Label Studio does.
    backend.reset("no_versions")
    assert api.get(f"/api/ml/{ml['id']}/versions").json() == {
        "versions": ["INITIAL"],
        "message": "Upgrade your ML backend version to latest.",
    }
    backend.reset()
    test = api.post(f"/api/ml/{ml['id']}/predict/test", params={"random": "true"}).json()
    assert test["status"] == 200 and test["request"]["params"] == {
        "login": None,
        "password": None,
        "context": None,
    }
    assert test["task"]["id"] == ids[0] and test["response"][0]["result"][0]["from_name"] == "sentiment"
    assert api.post(f"/api/ml/{ml['id']}/predict/test").status_code == 501
    api.patch(f"/api/ml/{ml['id']}", json={"is_interactive": False})
    refused = api.post(
        f"/api/ml/{ml['id']}/interactive-annotating", json={"task": ids[0], "context": context}
    )
    assert refused.json() == {"errors": ["Model is not set to be used for interactive preannotations"]}


def test_basic_auth_is_sent_and_the_password_never_returned(api, allow_local, tmp_path):
    secured = BackendProcess("tests.ml.keyword_backend", tmp_path, "ml", "s3cret")
    try:
        pid, _ = project_with_tasks(api, ["good"])
        wrong = register(
            api, pid, secured.url, auth_method="BASIC_AUTH", basic_auth_user="ml", basic_auth_pass="nope"
        )
        assert wrong.status_code == 400 and "authentication" in wrong.json()["validation_errors"]["url"][0]
        assert "nope" not in wrong.text
        body = register(
            api, pid, secured.url, auth_method="BASIC_AUTH", basic_auth_user="ml", basic_auth_pass="s3cret"
        ).json()
        assert (
            body["state"] == "CO" and body["basic_auth_pass_is_set"] is True and "basic_auth_pass" not in body
        )
        assert "s3cret" not in json.dumps(api.get(f"/api/ml/{body['id']}").json())
        assert retrieve(api, pid)["processed_items"] == 1
        assert secured.calls("/predict")[-1]["authorization"].startswith("Basic ")
    finally:
        secured.stop()


def test_prediction_on_task_load_and_the_selected_model_version(api, allow_local, backend):
    pid, ids = project_with_tasks(api, ["good", "bad"])
    register(api, pid, backend.url)
    api.patch(f"/api/projects/{pid}", json={"evaluate_predictions_automatically": True})
    backend.reset()
    task = api.get(f"/api/tasks/{ids[0]}").json()
    assert [p["model_version"] for p in task["predictions"]] == ["INITIAL"]
    assert [c["tasks"] for c in backend.calls("/predict")] == [1]
    assert api.get(f"/api/tasks/{ids[0]}").json()["total_predictions"] == 1  # stored, not asked again
    assert len(backend.calls("/predict")) == 1
    # A failing backend never breaks the read.
    backend.reset("garbage")
    assert api.get(f"/api/tasks/{ids[1]}").status_code == 200
    # The label stream shows the predictions of the project's model version only.
    backend.reset()
    api.post(
        "/api/predictions",
        json={
            "task": ids[0],
            "model_version": "manual",
            "score": 0.1,
            "result": task["predictions"][0]["result"],
        },
    )
    api.patch(
        f"/api/projects/{pid}", json={"model_version": "manual", "evaluate_predictions_automatically": False}
    )
    shown = api.get(f"/api/projects/{pid}/next").json()
    assert shown["id"] == ids[0] and [p["model_version"] for p in shown["predictions"]] == ["manual"]


def test_large_selections_run_as_a_job_with_progress(api, allow_local, backend, monkeypatch):
    from infra.local_stack import apply_settings

    monkeypatch.setenv("LABELSTACK_ML_SYNC_PREDICT_LIMIT", "5")
    apply_settings({})
    pid, _ = project_with_tasks(api, [f"good {i}" for i in range(9)])
    ml = register(api, pid, backend.url).json()
    threads_before = set(threading.enumerate())
    body = retrieve(api, pid)
    assert body["processed_items"] == 0 and body["ml_backend"] == ml["id"] and "background" in body["detail"]
    for thread in set(threading.enumerate()) - threads_before:
        thread.join(timeout=30)
    job = api.get(f"/api/ml/{ml['id']}/jobs/{body['job']}").json()
    assert (job["status"], job["total"], job["processed"], job["predictions"]) == ("completed", 9, 9, 9)
    assert api.get(f"/api/projects/{pid}").json()["total_predictions_number"] == 9
    assert api.get(f"/api/ml/{ml['id']}/jobs/{body['job'] + 1}").status_code == 404


def test_non_members_get_404_and_annotators_only_read(api, allow_local, backend, make_user):
    pid, ids = project_with_tasks(api, ["good"])
    ml = register(api, pid, backend.url).json()
    _, outsider = make_user("out@example.com", "manager")
    for method, path in (
        ("get", f"/api/ml/{ml['id']}"),
        ("patch", f"/api/ml/{ml['id']}"),
        ("delete", f"/api/ml/{ml['id']}"),
        ("get", f"/api/ml/{ml['id']}/versions"),
        ("post", f"/api/ml/{ml['id']}/train"),
        ("post", f"/api/ml/{ml['id']}/predict/test"),
        ("post", f"/api/ml/{ml['id']}/interactive-annotating"),
        ("get", f"/api/ml/{ml['id']}/jobs/1"),
        ("get", "/api/ml"),
    ):
        kwargs = {"json": {"task": ids[0]}} if method in ("post", "patch") else {}
        response = getattr(outsider, method)(path, params={"project": pid}, **kwargs)
        assert response.status_code == 404, (method, path, response.status_code)
    assert outsider.post("/api/ml", json={"project": pid, "url": backend.url}).status_code == 404
    user, annotator = make_user("ann@example.com", "annotator")
    api.post(f"/api/projects/{pid}/members", json={"user": user["id"]})
    assert annotator.get(f"/api/ml/{ml['id']}").status_code == 200
    assert annotator.patch(f"/api/ml/{ml['id']}", json={"title": "x"}).status_code == 403
    assert (
        annotator.post(
            "/api/dm/actions", params={"id": "retrieve_tasks_predictions", "project": pid}, json=DM_ALL
        ).status_code
        == 403
    )


def test_presign_redirects_to_s3_for_the_tasks_own_files(api, aws):
    from functions.settings import get_settings
    from tests import files_bucket

    bucket = get_settings().files_bucket
    pid = create_project(api)["id"]
    files_bucket.put(f"uploads/{pid}/cat.txt", b"meow")
    ids = import_(api, pid, [{"data": {"text": f"s3://{bucket}/uploads/{pid}/cat.txt"}}])["task_ids"]

    def fileuri(uri):
        return base64.urlsafe_b64encode(uri.encode()).decode().rstrip("=")

    for path in (f"/api/tasks/{ids[0]}/presign/", f"/tasks/{ids[0]}/presign/"):
        response = api.get(
            path, params={"fileuri": fileuri(f"s3://{bucket}/uploads/{pid}/cat.txt")}, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        assert f"uploads/{pid}/cat.txt" in response.headers["location"]
        assert files_bucket.fetch(api, response.headers["location"]) == b"meow"
    other = api.get(f"/api/tasks/{ids[0]}/presign", params={"fileuri": fileuri(f"s3://{bucket}/exports/x")})
    assert other.status_code == 403
    bad = api.get(f"/api/tasks/{ids[0]}/presign", params={"fileuri": "%%%"})
    assert bad.status_code == 400 and "fileuri" in bad.json()["validation_errors"]


# The sagemaker kind.


class _Runtime(BaseHTTPRequestHandler):
    """A local SageMaker runtime: `POST /endpoints/{name}/invocations` answering the predict JSON."""

    received: ClassVar[list] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Runtime.received.append(
            {
                "path": self.path,
                "content_type": self.headers["Content-Type"],
                "tasks": len(body["tasks"]),
                "params": body["params"],
            }
        )
        results = [
            {
                "result": [
                    {
                        "from_name": "sentiment",
                        "to_name": "text",
                        "type": "choices",
                        "value": {"choices": ["Positive" if "good" in t["data"]["text"] else "Negative"]},
                    }
                ],
                "score": 0.8,
                "model_version": "tfidf-1",
            }
            for t in body["tasks"]
        ]
        data = json.dumps({"results": results}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def sagemaker_endpoint(aws, monkeypatch):
    from infra.local_stack import apply_settings

    create_emulated_endpoint("labelstack-text", config_name="m-config-1", model_name="m")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Runtime)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("LABELSTACK_SAGEMAKER_RUNTIME_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("LABELSTACK_ML_BATCH_SIZE", "2")
    apply_settings({})
    _Runtime.received = []
    yield "labelstack-text"
    server.shutdown()
    monkeypatch.delenv("LABELSTACK_SAGEMAKER_RUNTIME_URL")
    apply_settings({})


def test_sagemaker_backend_describes_invokes_and_predicts_the_same_json(api, sagemaker_endpoint, monkeypatch):
    from infra.local_stack import apply_settings

    pid, ids = project_with_tasks(api, ["good", "bad", "good too"])
    response = api.post(
        "/api/ml",
        json={
            "project": pid,
            "kind": "sagemaker",
            "title": "sm",
            "endpoint_name": sagemaker_endpoint,
            "region": "us-east-1",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["kind"], body["state"], body["model_version"]) == ("sagemaker", "CO", "m-config-1")
    assert body["endpoint_name"] == sagemaker_endpoint and body["target_variant"] is None
    assert _Runtime.received[0]["tasks"] == 1  # the test invocation
    _Runtime.received.clear()
    assert retrieve(api, pid)["processed_items"] == 3
    assert [r["tasks"] for r in _Runtime.received] == [2, 1]
    assert _Runtime.received[0]["path"] == f"/endpoints/{sagemaker_endpoint}/invocations"
    assert _Runtime.received[0]["content_type"] == "application/json"
    prediction = predictions_of(api, ids[1])[0]
    assert (
        prediction["result"][0]["value"]["choices"] == ["Negative"]
        and prediction["model_version"] == "m-config-1"
    )
    missing = api.post(
        "/api/ml", json={"project": pid, "kind": "sagemaker", "endpoint_name": "nope", "region": "us-east-1"}
    )
    assert missing.status_code == 400 and "endpoint_name" in missing.json()["validation_errors"]
    monkeypatch.setenv("LABELSTACK_SAGEMAKER_ENDPOINT_PREFIX", "labelstack-prod-")
    apply_settings({})
    outside = api.post(
        "/api/ml",
        json={
            "project": pid,
            "kind": "sagemaker",
            "endpoint_name": sagemaker_endpoint,
            "region": "us-east-1",
        },
    )
    assert outside.status_code == 400
    assert "labelstack-prod-" in outside.json()["validation_errors"]["endpoint_name"][0]
    monkeypatch.delenv("LABELSTACK_SAGEMAKER_ENDPOINT_PREFIX")
    apply_settings({})
    bad_region = api.post(
        "/api/ml", json={"project": pid, "kind": "sagemaker", "endpoint_name": "x", "region": "http://evil"}
    )
    assert bad_region.status_code == 400 and "region" in bad_region.json()["validation_errors"]


def test_sagemaker_through_moto_canned_answers_rejects_garbage(api, aws):
    create_emulated_endpoint("canned", config_name="c1", model_name="m")
    pid = create_project(api)["id"]
    # The project has no tasks, so the test invocation sends none; moto answers its canned body.
    requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results",
        json={"results": [{"Body": json.dumps({"results": []}), "ContentType": "application/json"}]},
        timeout=10,
    )
    ok = api.post(
        "/api/ml",
        json={"project": pid, "kind": "sagemaker", "endpoint_name": "canned", "region": "us-east-1"},
    )
    assert ok.status_code == 201, ok.text
    import_(api, pid, [{"data": {"text": "x"}}])
    # With no queued answer moto returns the plain text "body": garbage, so nothing is stored.
    body = retrieve(api, pid)
    assert body["processed_items"] == 0 and "not JSON" in body["error"]
    stored = api.get("/api/ml", params={"project": pid}).json()[0]
    assert stored["state"] == "ER" and "not JSON" in stored["error_message"]
    assert api.get(f"/api/projects/{pid}").json()["total_predictions_number"] == 0
