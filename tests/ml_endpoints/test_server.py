"""The model server as a real process on 127.0.0.1: Label Studio's ML-backend contract, SageMaker's
hosting contract, and boto3's sagemaker-runtime InvokeEndpoint pointed at it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from ml_endpoints import artifacts
from ml_endpoints.models.text_classifier import ARTIFACT_NAME, examples_from_tasks, train
from tests.ml_endpoints.support import (
    NER_CONFIG,
    ROOT,
    SENTIMENT_CONFIG,
    choices_annotation,
    export_tasks,
    model_server,
    predict_body,
    reviews,
)

PROJECT = {"id": 14, "title": "samples", "label_config": SENTIMENT_CONFIG, "model_version": "capture backend"}
SETUP = {
    "project": "14.1795384847",
    "schema": SENTIMENT_CONFIG,
    "hostname": "http://localhost:18080",
    "access_token": "redacted",
    "extra_params": None,
}


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    """The built-in text classifier; its model dir is a SageMaker root's `model/` folder."""
    root = tmp_path_factory.mktemp("opt_ml")
    with model_server("text_classifier", root / "model") as url:
        yield url, root


def runtime_client(url: str):
    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_label_studio_contract_from_untrained_to_trained(classifier):
    url, _ = classifier
    assert httpx.get(f"{url}/").json() == {"status": "UP", "model_class": "TextClassifier"}
    assert httpx.get(f"{url}/health").json() == {"status": "UP", "model_class": "TextClassifier"}
    assert httpx.post(f"{url}/setup", json=SETUP).json() == {"model_version": "text_classifier-untrained"}
    held_out = [{"id": 900 + i, "data": {"text": text}} for i, (text, _) in enumerate(reviews(60)[50:])]
    assert httpx.post(f"{url}/predict", json=predict_body(held_out)).json() == {"results": []}

    # Every project event reaches /webhook; only training events train.
    created = httpx.post(f"{url}/webhook", json={"action": "TASKS_CREATED", "tasks": [], "project": PROJECT})
    assert (created.status_code, created.json()) == (200, {"status": "Unknown event"})
    for i, (text, label) in enumerate(reviews(60)[:50]):
        answer = httpx.post(
            f"{url}/webhook",
            json={
                "action": "ANNOTATION_CREATED",
                "annotation": choices_annotation(label, 300 + i),
                "task": {"id": i + 1, "data": {"text": text}},
                "project": PROJECT,
            },
        )
        assert answer.status_code == 201 and answer.json()["status"] == "ok"
    started = httpx.post(f"{url}/webhook", json={"action": "START_TRAINING", "project": PROJECT})
    assert started.status_code == 201 and started.json()["result"]["examples"] == 50
    version = httpx.post(f"{url}/setup", json=SETUP).json()["model_version"]
    assert version == started.json()["result"]["model_version"] != "text_classifier-untrained"

    results = httpx.post(f"{url}/predict", json=predict_body(held_out)).json()["results"]
    assert len(results) == len(held_out)  # one per task, in order
    for prediction in results:
        assert set(prediction) == {"result", "score", "model_version"}
        assert prediction["model_version"] == version and 0.5 <= prediction["score"] <= 1
        [region] = prediction["result"]
        assert (region["from_name"], region["to_name"], region["type"]) == ("sentiment", "text", "choices")
    right = sum(
        p["result"][0]["value"]["choices"] == [label]
        for p, (_, label) in zip(results, reviews(60)[50:], strict=True)
    )
    assert right >= 8


def train_endpoint(root, pairs) -> str:
    """SageMaker's training job for the endpoint's model: the `train` entry point over `root`'s layout,
    which writes the artifact the endpoint serves (`root/model`). Returns the new model version."""
    channel = root / "input" / "data" / "training"
    channel.mkdir(parents=True, exist_ok=True)
    (channel / "export.json").write_text(json.dumps(export_tasks(pairs)))
    done = subprocess.run(
        [sys.executable, "-m", "ml_endpoints", "train"],
        cwd=ROOT,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
        env={**os.environ, "SM_ROOT": str(root)},
    )
    assert done.returncode == 0, done.stderr
    return json.loads((root / "model" / "metrics.json").read_text())["model_version"]


def test_sagemaker_contract_serves_the_endpoints_model(classifier):
    url, root = classifier
    trained = train_endpoint(root, reviews(30))
    body = predict_body(
        [
            {"id": 1, "data": {"text": "really excellent battery"}},
            {"id": 2, "data": {"text": "broken and useless"}},
        ]
    )
    assert httpx.get(f"{url}/ping").status_code == 200
    invocation = httpx.post(
        f"{url}/invocations", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    expected = invocation.json()
    assert [r["result"][0]["value"]["choices"] for r in expected["results"]] == [["Positive"], ["Negative"]]
    assert {r["model_version"] for r in expected["results"]} == {trained}
    # The same JSON as Label Studio's /predict; a project's own model is not the endpoint's.
    assert set(httpx.post(f"{url}/predict", json=body).json()) == {"results"}
    assert httpx.post(f"{url}/setup", json=SETUP).json()["model_version"] != trained

    answer = runtime_client(url).invoke_endpoint(
        EndpointName="labelstack-text",
        Body=json.dumps(body),
        ContentType="application/json",
        Accept="application/json",
    )
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert answer["ContentType"] == "application/json"
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    assert json.loads(answer["Body"].read()) == expected


def test_two_projects_on_one_server_learn_separately(tmp_path):
    """What Label Studio sends for two projects backed by the same server: each project's annotations
    train its own model, and neither project, nor the endpoint, is served the other's."""
    pairs = reviews(40, seed=11)
    inverted = {"Positive": "Negative", "Negative": "Positive"}
    held_out = [{"id": 900 + i, "data": {"text": t}} for i, (t, _) in enumerate(reviews(20, seed=12))]
    expected = [label for _, label in reviews(20, seed=12)]

    def project(pid: int) -> dict:
        return {"id": pid, "title": f"p{pid}", "label_config": SENTIMENT_CONFIG}

    def annotate(url: str, pid: int, flip: bool) -> str:
        for i, (text, label) in enumerate(pairs):
            answer = httpx.post(
                f"{url}/webhook",
                json={
                    "action": "ANNOTATION_CREATED",
                    "annotation": choices_annotation(inverted[label] if flip else label, 100 * pid + i),
                    "task": {"id": 100 * pid + i, "data": {"text": text}},
                    "project": project(pid),
                },
            )
            assert answer.status_code == 201, answer.text
        return answer.json()["result"]["model_version"]

    def served(url: str, pid: int) -> list:
        body = {**predict_body(held_out), "project": f"{pid}.1795384847"}
        return [
            r["result"][0]["value"]["choices"][0]
            for r in httpx.post(f"{url}/predict", json=body).json()["results"]
        ]

    def setup(url: str, pid: int) -> str:
        body = {**SETUP, "project": f"{pid}.1795384847"}
        return httpx.post(f"{url}/setup", json=body).json()["model_version"]

    with model_server("text_classifier", tmp_path / "model") as url:
        version_a = annotate(url, 21, flip=False)
        right_a = served(url, 21)
        assert sum(a == b for a, b in zip(right_a, expected, strict=True)) >= 15
        assert setup(url, 22) == "text_classifier-untrained"  # A's training is not B's model
        assert httpx.post(f"{url}/predict", json={**predict_body(held_out), "project": 22}).json() == {
            "results": []
        }

        version_b = annotate(url, 22, flip=True)  # B trains on inverted labels
        assert version_b != version_a
        assert served(url, 21) == right_a and setup(url, 21) == version_a  # A is served what it was
        assert served(url, 22) == [inverted[label] for label in right_a]
        # The endpoint serves its own (here: no) model, whatever the projects trained.
        assert httpx.post(f"{url}/invocations", json=predict_body(held_out)).json() == {"results": []}
        assert (tmp_path / "model" / "projects" / "21" / "text_classifier.json").exists()
        assert not (tmp_path / "model" / "text_classifier.json").exists()


def test_a_project_id_that_is_not_a_number_is_refused(classifier):
    url, _ = classifier
    for project in ("../model", "14/../../x", "abc.123"):
        answer = httpx.post(f"{url}/predict", json={**predict_body([]), "project": project})
        assert answer.status_code == 400 and "project" in answer.json()["validation_errors"], project


def test_invoke_endpoint_gets_model_error_for_a_bad_body(classifier):
    url, _ = classifier
    with pytest.raises(ClientError) as raised:
        runtime_client(url).invoke_endpoint(
            EndpointName="labelstack-text", Body=json.dumps({"tasks": {}}), ContentType="application/json"
        )
    error = raised.value.response
    assert error["Error"]["Code"] == "ModelError"
    assert error["OriginalStatusCode"] == 400 and "tasks" in error["OriginalMessage"]


def test_bad_requests_are_4xx_naming_the_field(classifier):
    url, _ = classifier
    cases = [
        ("/predict", b"{not json", "body"),
        ("/predict", json.dumps({"tasks": "one"}).encode(), "tasks"),
        ("/predict", json.dumps({"tasks": [{"data": []}]}).encode(), "tasks[0].data"),
        ("/predict", json.dumps({"tasks": [], "params": {"context": "x"}}).encode(), "params.context"),
        ("/predict", json.dumps({"tasks": [], "label_config": "<View><Text"}).encode(), "label_config"),
        (
            "/setup",
            json.dumps({"project": "1.2", "schema": SENTIMENT_CONFIG, "extra_params": "{x"}).encode(),
            "extra_params",
        ),
        ("/webhook", json.dumps({"project": PROJECT}).encode(), "action"),
        (
            "/webhook",
            json.dumps({"action": "ANNOTATION_CREATED", "project": {"title": "x"}}).encode(),
            "project.id",
        ),
        ("/train", json.dumps({"annotations": []}).encode(), "annotations"),
        ("/invocations", json.dumps([1]).encode(), "body"),
    ]
    for path, body, field in cases:
        answer = httpx.post(f"{url}{path}", content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400, (path, body, answer.text)
        assert field in answer.json()["validation_errors"], (path, answer.json())


def test_a_new_artifact_is_served_without_a_restart(classifier):
    url, root = classifier
    before = httpx.post(f"{url}/invocations", json=predict_body([{"data": {"text": "love it"}}])).json()
    trained = train_endpoint(root, reviews(40))
    result = httpx.post(f"{url}/invocations", json=predict_body([{"data": {"text": "love it"}}])).json()
    assert result["results"][0]["model_version"] == trained
    assert before["results"] == [] or before["results"][0]["model_version"] != trained


def test_basic_auth_and_request_size_bounds(tmp_path):
    env = {"BASIC_AUTH_USER": "ml", "BASIC_AUTH_PASS": "s3cret", "ML_MAX_REQUEST_BYTES": "4096"}
    with model_server("text_classifier", tmp_path / "model", env=env) as url:
        assert httpx.get(f"{url}/ping").status_code == 200  # SageMaker's health check carries no credentials
        assert httpx.get(f"{url}/health").status_code == 401
        assert httpx.get(f"{url}/health", auth=("ml", "wrong")).status_code == 401
        assert httpx.post(f"{url}/webhook", json={"action": "TASKS_CREATED"}).status_code == 401
        assert httpx.get(f"{url}/health", auth=("ml", "s3cret")).json()["status"] == "UP"
        small = predict_body([{"data": {"text": "fine"}}])
        assert httpx.post(f"{url}/predict", json=small, auth=("ml", "s3cret")).status_code == 200
        big = predict_body([{"data": {"text": "word " * 2000}}])
        too_large = httpx.post(f"{url}/predict", json=big, auth=("ml", "s3cret"))
        assert too_large.status_code == 413 and "4096" in too_large.json()["detail"]

        def chunks():  # no Content-Length: the bound holds while reading the stream too
            for _ in range(10):
                yield b" " * 1000

        streamed = httpx.post(f"{url}/predict", content=chunks(), auth=("ml", "s3cret"))
        assert streamed.status_code == 413


def test_span_tagger_server_answers_interactive_requests(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "span_tagger.json").write_text(json.dumps({"keywords": {"ORG": ["Acme"]}}))
    with model_server("span_tagger", tmp_path / "model") as url:
        task = {"id": 5, "data": {"text": "Acme hired Bob. Bob likes Acme."}}
        batch = httpx.post(f"{url}/predict", json=predict_body([task], NER_CONFIG)).json()["results"]
        assert [r["value"]["start"] for r in batch[0]["result"]] == [0, 26]
        assert batch[0]["score"] is None and batch[0]["model_version"].startswith("span_tagger-")
        context = {
            "result": [
                {
                    "from_name": "ner",
                    "to_name": "text",
                    "type": "labels",
                    "value": {"start": 11, "end": 14, "text": "Bob", "labels": ["PRODUCT"]},
                }
            ]
        }
        [interactive] = httpx.post(f"{url}/predict", json=predict_body([task], NER_CONFIG, context)).json()[
            "results"
        ]
        assert [
            (r["value"]["start"], r["value"]["end"], r["value"]["labels"]) for r in interactive["result"]
        ] == [(11, 14, ["PRODUCT"]), (16, 19, ["PRODUCT"])]


def test_an_artifact_that_would_read_files_named_by_task_texts_is_refused(tmp_path):
    # A local file whose words the vocabulary knows: a vectorizer built with `input="filename"` would
    # open it through the task text and answer a confident prediction from its contents.
    secret = tmp_path / "secret.txt"
    secret.write_text(" ".join(["love great wonderful"] * 50))
    document = train(examples_from_tasks(export_tasks(reviews(40)), None, "text"))
    document["vectorizer"]["params"]["input"] = "filename"
    model_dir = tmp_path / "model"
    with model_server("text_classifier", model_dir) as url:
        # The endpoint's model (SageMaker's route serves $MODEL_DIR), served from the next request on.
        artifacts.write_json(model_dir / ARTIFACT_NAME, document)
        answer = httpx.post(f"{url}/invocations", json=predict_body([{"data": {"text": str(secret)}}]))
        assert answer.status_code == 500, answer.text
        assert answer.json()["detail"] == (
            "InvalidArtifact: vectorizer.params.input: not a setting an artifact may carry; allowed: "
            "lowercase, ngram_range, sublinear_tf, min_df, norm, smooth_idf, use_idf, binary, strip_accents, "
            "token_pattern"
        )
        assert "results" not in answer.json()
        ping = httpx.get(f"{url}/ping")
        assert ping.status_code == 503 and "vectorizer.params.input" in ping.json()["detail"]
