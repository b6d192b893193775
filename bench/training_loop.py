"""The active-learning loop on a real `labelstack dev`: label N reviews with training on submission on,
let the local stack retrain the built-in model behind its SageMaker endpoint, and compare held-out accuracy
before and after. Prints one table.

    .venv/bin/python -m bench.training_loop [--labels 30] [--held-out 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import httpx

from infra.local_stack import BUILTIN_ENDPOINT, free_port
from tests.e2e.test_training_loop import choice, held_out_accuracy
from tests.ml_endpoints.support import SENTIMENT_CONFIG, reviews

TOKEN = "bench-training-token-0123456789"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=30)
    parser.add_argument("--held-out", type=int, default=200)
    args = parser.parse_args()
    port = free_port()
    dev = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "dev", "--port", str(port)],
        env={**os.environ, "LABELSTACK_ADMIN_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        api = httpx.Client(base_url=url, headers={"Authorization": f"Token {TOKEN}"}, timeout=120)
        labeled, held_out = reviews(args.labels, seed=21), reviews(args.held_out, seed=77)
        pid = api.post(
            "/api/projects",
            json={
                "title": "bench",
                "label_config": SENTIMENT_CONFIG,
                "start_training_on_annotation_update": True,
            },
        ).json()["id"]

        def import_texts(pairs):
            return api.post(
                f"/api/projects/{pid}/import",
                params={"return_task_ids": "true"},
                json=[{"data": {"text": text}} for text, _ in pairs],
            ).json()["task_ids"]

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

        def accuracy() -> float:
            api.post(
                "/api/dm/actions",
                params={"id": "retrieve_tasks_predictions", "project": pid},
                json={"selectedItems": {"all": False, "included": test_ids}},
            )
            return held_out_accuracy(api, test_ids, [label for _, label in held_out])[0]

        untrained = accuracy()
        started = time.perf_counter()
        for task_id, (_, label) in zip(train_ids, labeled, strict=True):
            api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice(label)})
            time.sleep(0.1)
        labeled_at = time.perf_counter()
        while True:
            runs = api.get(f"/api/ml/{backend['id']}/trainings").json()
            if runs and all(r["status"] != "running" for r in runs):
                break
            time.sleep(0.3)
        idle_at = time.perf_counter()
        trained = accuracy()
        completed = [r for r in runs if r["status"] == "completed"]
        failed = [r for r in runs if r["status"] == "failed"]
        latest = completed[0] if completed else {}
        print("\n## Training on submission, local stack (built-in text classifier, SageMaker kind)\n")
        print(
            "| labels | runs (completed / failed) | latest run trained on | held-out reviews "
            "| accuracy untrained | accuracy trained | its validation accuracy "
            "| labeling s | then idle after s |"
        )
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        print(
            f"| {args.labels} | {len(runs)} ({len(completed)} / {len(failed)}) | {latest.get('annotations')} "
            f"| {args.held_out} | {untrained:.2f} | {trained:.2f} "
            f"| {latest.get('metrics', {}).get('validation:accuracy')} | {labeled_at - started:.1f} "
            f"| {idle_at - labeled_at:.1f} |"
        )
    finally:
        dev.terminate()
        dev.wait(timeout=30)


if __name__ == "__main__":
    main()
