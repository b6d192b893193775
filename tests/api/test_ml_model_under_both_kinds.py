"""Issue 4's promise, end to end: a model class written with PyPI's label-studio-ml runs as a real
process under that package's own server and, registered as an `http` backend, pre-labels tasks; the same
class, its import changed to ml_endpoints, runs under `labelstack ml serve` and, registered as a
`sagemaker` backend (DescribeEndpoint in the emulator, InvokeEndpoint to the local server), gives the
same predictions."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from infra.local_stack import create_emulated_endpoint
from tests.api.test_ml_backends import allow_local, predictions_of, project_with_tasks, retrieve  # noqa: F401
from tests.api.test_projects import TEXT_CONFIG
from tests.ml.harness import ROOT, free_port
from tests.ml_endpoints.support import model_server
from tests.ml_endpoints.test_porting import write_models

TEXTS = ["good phone", "Shiny new case", "bad battery", "good good value", "nothing to say"]


@pytest.fixture
def model_files(tmp_path):
    write_models(tmp_path)  # legacy_keywords.py and ported_keywords.py, differing in the import only
    return tmp_path


@pytest.fixture
def legacy_server(model_files, tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(model_files), str(ROOT)])}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.ml.serve_legacy",
            str(port),
            str(tmp_path / "legacy"),
            "legacy_keywords:KeywordSentiment",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "label-studio-ml server did not start"
        time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def ported_endpoint(model_files, tmp_path, aws, monkeypatch):
    """The ported class behind `labelstack ml serve`, known to the emulated SageMaker as an endpoint."""
    from infra.local_stack import apply_settings

    create_emulated_endpoint("labelstack-keywords", config_name="keywords-1", model_name="keywords")
    with model_server(
        "ported_keywords:KeywordSentiment", tmp_path / "ported", python_path=model_files
    ) as url:
        monkeypatch.setenv("LABELSTACK_SAGEMAKER_RUNTIME_URL", url)
        apply_settings({})
        yield "labelstack-keywords"
    monkeypatch.delenv("LABELSTACK_SAGEMAKER_RUNTIME_URL")
    apply_settings({})


def answers(api, task_ids) -> dict[str, tuple]:
    found = {}
    for task_id, text in zip(task_ids, TEXTS, strict=True):
        [prediction] = predictions_of(api, task_id)
        found[text] = (prediction["result"][0]["value"]["choices"], prediction["score"])
    return found


@pytest.mark.usefixtures("allow_local")
def test_one_model_class_predicts_the_same_as_http_and_as_sagemaker(
    api,
    legacy_server,
    ported_endpoint,
):
    http_project, http_tasks = project_with_tasks(api, TEXTS)
    response = api.post("/api/ml", json={"project": http_project, "url": legacy_server, "title": "legacy"})
    assert response.status_code == 201, response.text
    assert retrieve(api, http_project)["processed_items"] == len(TEXTS)

    sm_project, sm_tasks = project_with_tasks(api, TEXTS)
    response = api.post(
        "/api/ml",
        json={
            "project": sm_project,
            "kind": "sagemaker",
            "title": "ported",
            "endpoint_name": ported_endpoint,
            "region": "us-east-1",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "CO"
    assert retrieve(api, sm_project)["processed_items"] == len(TEXTS)

    over_http, over_sagemaker = answers(api, http_tasks), answers(api, sm_tasks)
    assert over_http == over_sagemaker
    assert over_http["good phone"] == (["Positive"], 0.5)
    assert over_http["bad battery"] == (["Negative"], 0.0)


@pytest.fixture
def builtin_endpoint(tmp_path, aws, monkeypatch):
    """The built-in text classifier behind `labelstack ml serve`, also known as a SageMaker endpoint."""
    from infra.local_stack import apply_settings

    create_emulated_endpoint("labelstack-builtin", config_name="builtin-1", model_name="builtin")
    with model_server("text_classifier", tmp_path / "builtin") as url:
        monkeypatch.setenv("LABELSTACK_SAGEMAKER_RUNTIME_URL", url)
        apply_settings({})
        yield url
    monkeypatch.delenv("LABELSTACK_SAGEMAKER_RUNTIME_URL")
    apply_settings({})


def train_builtin(url: str, project: int | None) -> None:
    """Label Studio's legacy `/train` with labeled reviews: for a project's model, or (None) for the model
    the server's SageMaker routes serve."""
    words = {"Positive": ["good", "great", "love"], "Negative": ["bad", "awful", "broken"]}
    tasks = [
        {
            "id": i,
            "data": {"text": f"{words[label][i % 3]} {words[label][(i + 1) % 3]} thing"},
            "annotations": [
                {
                    "id": i,
                    "result": [
                        {
                            "from_name": "sentiment",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": [label]},
                        }
                    ],
                }
            ],
        }
        for i, label in enumerate(["Positive", "Negative"] * 10)
    ]
    body: dict = {"annotations": tasks, "label_config": TEXT_CONFIG}
    if project is not None:
        body["project"] = str(project)
    httpx.post(f"{url}/train", json=body, timeout=60).raise_for_status()


@pytest.mark.usefixtures("allow_local")
def test_the_endpoint_serves_its_own_model_and_says_when_it_has_none(api, builtin_endpoint):
    """Why `sagemaker` retrieval stored nothing where `http` stored everything: the server keeps a model per
    project for Label Studio's routes and serves its own on SageMaker's; training a project's model over
    http leaves the endpoint's untrained, and an untrained model answers no predictions."""
    http_project, _ = project_with_tasks(api, TEXTS)
    train_builtin(builtin_endpoint, http_project)
    assert api.post("/api/ml", json={"project": http_project, "url": builtin_endpoint}).status_code == 201
    assert retrieve(api, http_project)["processed_items"] == len(TEXTS)

    sm_project, sm_tasks = project_with_tasks(api, TEXTS)
    response = api.post(
        "/api/ml",
        json={
            "project": sm_project,
            "kind": "sagemaker",
            "endpoint_name": "labelstack-builtin",
            "region": "us-east-1",
        },
    )
    assert response.status_code == 201, response.text
    body = retrieve(api, sm_project)
    assert body["processed_items"] == 0 and "error" not in body
    assert body["detail"].startswith(
        "Retrieved 0 predictions: the model of SageMaker endpoint labelstack-builtin in us-east-1 "
        f"returned no predictions for {len(TEXTS)} of the {len(TEXTS)} tasks sent "
        "(an untrained model returns none"
    ), body
    assert api.get("/api/ml", params={"project": sm_project}).json()[0]["state"] == "CO"  # not a failure

    train_builtin(builtin_endpoint, None)
    assert retrieve(api, sm_project)["processed_items"] == len(TEXTS)
    assert predictions_of(api, sm_tasks[0])[0]["result"][0]["value"]["choices"] == ["Positive"]
