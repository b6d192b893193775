"""Pre-labeling through a registered Label Studio ML backend (`http` kind), end to end on the local stack.

Starts `labelstack dev` (its own data directory, a free port) and, beside the built-in model server it
starts, a model written with PyPI's label-studio-ml served by that package's own Flask server
(tests/ml/keyword_backend.py). For each backend, a new project of N tasks (default 200), the backend
registered, then the Data Manager's "Retrieve Predictions" over all tasks, timed from the client: one
HTTP request, answered once every prediction is stored. Each backend's `/predict` is also timed alone on
the same batches (what the model itself costs), so the rest is ours.

    .venv/bin/python -m bench.ml_prelabel [--tasks 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.api_calls import CONFIG
from bench.ml_predictions import review, train
from infra.local_stack import free_port
from tests.ml.harness import BackendProcess

TOKEN = "bench-prelabel-token-0123456789"
BATCH = 100  # LABELSTACK_ML_BATCH_SIZE's default


def start_dev(data_dir: Path, engine: str) -> tuple[subprocess.Popen, str, str]:
    """`labelstack dev`; its URL and the built-in model server's."""
    port = free_port()
    env = dict(os.environ, LABELSTACK_ADMIN_TOKEN=TOKEN, PYTHONUNBUFFERED="1")
    env.pop("LABELSTACK_AWS_ENDPOINT_URL", None)
    where = ["--data-dir", str(data_dir)] if engine == "sqlite" else ["--engine", "emulator"]
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "dev", *where, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    model_url = ""
    assert process.stdout is not None
    for line in process.stdout:
        key, _, value = line.strip().partition(": ")
        if key.strip() == "ml backend":
            model_url = value.split()[0]
        if line.startswith("Ctrl-C stops it."):
            break
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url, model_url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("labelstack dev did not start")


def new_project(api: httpx.Client, rng: random.Random, tasks: int) -> tuple[int, list[dict]]:
    pid = api.post("/api/projects", json={"title": "prelabel", "label_config": CONFIG}).json()["id"]
    data = [{"data": {"text": review(rng, rng.choice(["Positive", "Negative"]))}} for _ in range(tasks)]
    imported = api.post(f"/api/projects/{pid}/import", params={"return_task_ids": "true"}, json=data)
    assert imported.status_code == 201, imported.text
    return pid, [{"id": i, **d} for i, d in zip(imported.json()["task_ids"], data, strict=True)]


def model_alone(url: str, pid: int, tasks: list[dict], per_call: int) -> float:
    """The backend's own time for the same calls, made directly (one kept-alive connection)."""
    with httpx.Client(timeout=60) as client:
        started = time.perf_counter()
        for start in range(0, len(tasks), per_call):
            body = {
                "tasks": tasks[start : start + per_call],
                "project": f"{pid}.0",
                "label_config": CONFIG,
                "params": {"login": None, "password": None, "context": None},
            }
            answer = client.post(f"{url}/predict", json=body)
            assert answer.status_code == 200, answer.text
        return time.perf_counter() - started


def measure(
    api: httpx.Client, url: str, rng: random.Random, tasks: int, trained: bool, per_call: int
) -> dict:
    pid, sent = new_project(api, rng, tasks)
    if trained:
        train(url, rng, pid)
    created = api.post("/api/ml", json={"project": pid, "url": url, "title": "bench"})
    assert created.status_code == 201, created.text
    started = time.perf_counter()
    body = api.post(
        "/api/dm/actions",
        params={"id": "retrieve_tasks_predictions", "project": pid},
        json={"selectedItems": {"all": True, "excluded": []}},
    ).json()
    seconds = time.perf_counter() - started
    stored = api.get(f"/api/projects/{pid}").json()["total_predictions_number"]
    assert stored == tasks, body
    return {"seconds": seconds, "model": model_alone(url, pid, sent, per_call)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--engine", choices=["sqlite", "emulator"], default="sqlite", help="labelstack dev's store engine"
    )
    args = parser.parse_args()

    rng = random.Random(7)
    rows = []
    with tempfile.TemporaryDirectory(prefix="labelstack-bench-") as scratch:
        dev, url, builtin_url = start_dev(Path(scratch) / "data", args.engine)
        sdk = BackendProcess("tests.ml.keyword_backend", Path(scratch) / "sdk-model")
        # (name, URL, trained per project, the SDK server's mode, tasks per /predict call)
        backends = [
            ("built-in text classifier (labelstack ml serve)", builtin_url, True, None, BATCH),
            ("label-studio-ml 1.0.9 SDK server (Flask)", sdk.url, False, "ok", BATCH),
            ("the same, without batch support (one /predict per task)", sdk.url, False, "one_result", 1),
        ]
        try:
            with httpx.Client(base_url=url, headers={"Authorization": f"Token {TOKEN}"}, timeout=120) as api:
                for name, backend_url, trained, mode, per_call in backends:
                    if mode:
                        sdk.reset(mode)
                    runs = [
                        measure(api, backend_url, rng, args.tasks, trained, per_call)
                        for _ in range(args.rounds)
                    ]
                    rows.append((name, runs))
        finally:
            sdk.stop()
            dev.terminate()
            dev.wait(timeout=30)

    print(
        f"\n## Pre-labeling {args.tasks} tasks through an http ML backend, labelstack dev ({args.engine}) "
        "on this machine\n"
    )
    print("| backend | rounds | retrieval median s | min s | max s | the model alone, median s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, runs in rows:
        seconds = [r["seconds"] for r in runs]
        model = statistics.median(r["model"] for r in runs)
        print(
            f"| {name} | {len(runs)} | {statistics.median(seconds):.2f} | {min(seconds):.2f} "
            f"| {max(seconds):.2f} | {model:.2f} |"
        )


if __name__ == "__main__":
    main()
