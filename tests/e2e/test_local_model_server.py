"""`labelstack dev` starts the built-in model server and offers it both ways: as an `http` ML backend
at the URL it prints, and as the emulated SageMaker endpoint whose invocations reach the same server. The
server keeps each project's model apart, and the endpoint's: training one project's model changes
neither another project's nor what the endpoint serves."""

from __future__ import annotations

import httpx

from infra.local_stack import BUILTIN_ENDPOINT
from tests.e2e.conftest import E2E_TOKEN

CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
    '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>'
)


TEXTS = ["great phone, love it", "awful case, broken", "love the great screen"]


def new_project(api: httpx.Client) -> tuple[int, list[int]]:
    project = api.post("/api/projects", json={"title": "local model", "label_config": CONFIG}).json()
    imported = api.post(
        f"/api/projects/{project['id']}/import",
        params={"return_task_ids": "true"},
        json=[{"data": {"text": text}} for text in TEXTS],
    )
    assert imported.status_code == 201
    return project["id"], imported.json()["task_ids"]


def labeled(i: int, text: str, label: str) -> dict:
    return {
        "id": 1000 + i,
        "data": {"text": text},
        "annotations": [
            {
                "id": 1000 + i,
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


def train_builtin(model_url: str, project_id: int) -> None:
    """Train the project's classifier on the server through Label Studio's legacy `/train` (annotated
    tasks)."""
    good = ["great", "love", "excellent", "perfect"]
    bad = ["awful", "broken", "terrible", "useless"]
    tasks = [labeled(i, f"{good[i % 4]} {good[(i + 1) % 4]} product", "Positive") for i in range(10)]
    tasks += [labeled(10 + i, f"{bad[i % 4]} {bad[(i + 1) % 4]} product", "Negative") for i in range(10)]
    answer = httpx.post(
        f"{model_url}/train",
        json={"annotations": tasks, "project": str(project_id), "label_config": CONFIG},
        timeout=60,
    )
    assert answer.status_code == 201 and answer.json()["result"]["trained"] is True, answer.text


def test_the_builtin_model_registers_as_http_and_as_sagemaker(local_stack, local_stack_banner):
    api = httpx.Client(base_url=local_stack, headers={"Authorization": f"Token {E2E_TOKEN}"}, timeout=60)
    model_url = local_stack_banner["ml backend"].split()[0]
    assert model_url.startswith("http://127.0.0.1:") and BUILTIN_ENDPOINT in local_stack_banner["ml backend"]

    def retrieve(project_id: int) -> dict:
        response = api.post(
            "/api/dm/actions",
            params={"id": "retrieve_tasks_predictions", "project": project_id},
            json={"selectedItems": {"all": True, "excluded": []}},
        )
        assert response.status_code == 200, response.text
        return response.json()

    answers, backends = {}, {}
    for kind, fields in (
        ("http", {"url": model_url}),
        ("sagemaker", {"kind": "sagemaker", "endpoint_name": BUILTIN_ENDPOINT, "region": "us-east-1"}),
    ):
        project_id, task_ids = new_project(api)
        created = api.post("/api/ml", json={"project": project_id, "title": "builtin", **fields})
        assert created.status_code == 201, created.text
        assert created.json()["state"] == "CO"
        backends[kind] = created.json()["id"]
        # Untrained, the classifier abstains: nothing is stored and the backend stays connected.
        assert retrieve(project_id)["processed_items"] == 0
        assert api.get(f"/api/ml/{created.json()['id']}").json()["state"] == "CO"
        if kind == "http":
            train_builtin(model_url, project_id)
            assert retrieve(project_id)["processed_items"] == len(TEXTS)
        answers[kind] = [
            p["result"][0]["value"]["choices"]
            for task_id in task_ids
            for p in api.get("/api/predictions", params={"task": task_id}).json()
        ]
    assert answers["http"] == [["Positive"], ["Negative"], ["Positive"]]
    assert answers["sagemaker"] == []  # the endpoint still serves its own, untrained, model
    # This project owns the stack's one endpoint now; deleting its backend gives the endpoint back, so the
    # next project to register it (the training loop's, on this same stack) may train it.
    assert api.delete(f"/api/ml/{backends['sagemaker']}").status_code == 204
