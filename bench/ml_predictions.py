"""Retrieving predictions for a large project from the built-in text model, over both backend kinds.

Imports N tasks (default 10,000) into a project of the in-process app over the local stack's moto server
(as bench/api_calls.py), starts the built-in text classifier as `labelstack dev` does (a `labelstack ml
serve` process, also known to the emulator as a SageMaker endpoint), trains it on a few labeled reviews,
and runs the Data Manager's "Retrieve predictions" over all tasks (a background job past the sync limit)
once with the model registered as an `http` backend and once as a `sagemaker` one. `--backend-url`
measures an `http` backend already running instead.

The model server keeps a model per project for Label Studio's routes and serves one model, its own, on
SageMaker's: so the `http` run trains the project's model and the `sagemaker` run trains the endpoint's
(what a training run of the project owning the endpoint deploys). An untrained model answers no
predictions, and the retrieval's detail says so.

    .venv/bin/python -m bench.ml_predictions [--tasks 10000] [--batch-size 100] [--backend-url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import time

import httpx

from bench.api_calls import CONFIG, _wait_import, counted

WORDS = {
    "Positive": ["great", "love", "excellent", "perfect", "happy", "recommend"],
    "Negative": ["awful", "broken", "terrible", "useless", "refund", "disappointed"],
}
FILLER = ["the", "phone", "case", "battery", "screen", "arrived", "it", "is", "and", "very"]


def review(rng: random.Random, label: str) -> str:
    words = rng.sample(WORDS[label], 2) + rng.sample(FILLER, 4)
    rng.shuffle(words)
    return " ".join(words)


def train(model_url: str, rng: random.Random, project: int | None) -> None:
    """A few labeled reviews for the model's state of `project` (the built-in model learns per project),
    or with None, for the model the server's SageMaker routes serve."""
    tasks = [
        {
            "id": i,
            "data": {"text": review(rng, label)},
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
        for i, label in enumerate(["Positive", "Negative"] * 50)
    ]
    body = {"annotations": tasks, "label_config": CONFIG}
    if project is not None:
        body["project"] = str(project)
    answer = httpx.post(f"{model_url}/train", json=body, timeout=120)
    answer.raise_for_status()


def run(client, pid: int, fields: dict) -> dict:
    created = client.post("/api/ml", json={"project": pid, "title": "bench", **fields})
    assert created.status_code == 201, created.text
    backend_id = created.json()["id"]
    with counted() as box:
        body = client.post(
            "/api/dm/actions",
            params={"id": "retrieve_tasks_predictions", "project": pid},
            json={"selectedItems": {"all": True, "excluded": []}},
        ).json()
        job = {"status": "completed", "calls": None}
        while "job" in body:
            job = client.get(f"/api/ml/{backend_id}/jobs/{body['job']}").json()
            if job["status"] != "running":
                break
            time.sleep(0.5)
    assert job["status"] == "completed", job
    box["backend calls"] = job.get("calls")
    box["stored"] = client.get(f"/api/projects/{pid}").json()["total_predictions_number"]
    box["detail"] = job.get("detail") or body.get("detail")
    return box


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--backend-url", default=None)
    args = parser.parse_args()

    os.environ.setdefault("LABELSTACK_JWT_SECRET", "bench")
    os.environ["LABELSTACK_ML_BATCH_SIZE"] = str(args.batch_size)

    from fastapi.testclient import TestClient

    from infra.local_stack import BUILTIN_ENDPOINT, LocalStack, ModelServer

    stack, model = LocalStack(), ModelServer()
    stack.start()
    try:
        rng = random.Random(11)
        if args.backend_url:
            os.environ["LABELSTACK_ALLOWED_HOSTS"] = "127.0.0.1"
            kinds = {"http (given)": {"url": args.backend_url}}
        else:
            model.start()
            kinds = {
                "http": {"url": model.url},
                "sagemaker": {"kind": "sagemaker", "endpoint_name": BUILTIN_ENDPOINT, "region": "us-east-1"},
            }
        from functions.api.app import create_app
        from functions.services import identity

        _, token = identity.ensure_admin("bench@localhost")
        client = TestClient(create_app(), headers={"Authorization": f"Token {token}"})
        rows = []
        for kind, fields in kinds.items():
            pid = client.post(
                "/api/projects", json={"title": f"ml bench {kind}", "label_config": CONFIG}
            ).json()["id"]
            tasks = [
                {"data": {"text": review(rng, rng.choice(["Positive", "Negative"]))}}
                for _ in range(args.tasks)
            ]
            response = client.post(f"/api/projects/{pid}/import", json=tasks)
            _wait_import(client, pid, response.json())
            if not args.backend_url:
                train(model.url, rng, pid if kind == "http" else None)
            rows.append((kind, run(client, pid, fields)))

        print(
            "\n## Retrieve predictions, built-in text classifier "
            "(moto server and the model on this machine)\n"
        )
        print(
            "| kind | tasks | batch size | seconds | tasks/s | backend calls | predictions stored "
            "| DynamoDB calls | BatchWriteItem | UpdateItem |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for kind, box in rows:
            seconds = box["seconds"]
            print(
                f"| {kind} | {args.tasks} | {args.batch_size} | {seconds:.1f} | {args.tasks / seconds:.0f} "
                f"| {box['backend calls']} | {box['stored']} | {box['dynamodb']} "
                f"| {box['by_op'].get('BatchWriteItem', 0)} | {box['by_op'].get('UpdateItem', 0)} |"
            )
        for kind, box in rows:
            print(f"\n{kind}: DynamoDB calls by operation:", dict(sorted(box["by_op"].items())))
            print(f"{kind}: {box['detail']}")
    finally:
        model.stop()
        stack.stop()


if __name__ == "__main__":
    main()
