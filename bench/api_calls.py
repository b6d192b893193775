"""DynamoDB calls per API operation, and import timings, against the local stack.

Runs the real FastAPI app in-process on the local stack and counts every DynamoDB call made while one
operation runs, for a project of 1k and one of 100k tasks. An operation whose count is equal in both
columns costs the same whatever the project size. Both engines run the same store code, so they make the
same calls: `--engine sqlite` (the default: the calls answered by SQLite in-process) or `--engine
emulator` (each call an HTTP request to the moto server, counted by a botocore hook).

    make bench                 # or: .venv/bin/python -m bench.api_calls [--big 100000] [--engine emulator]
"""

from __future__ import annotations

import argparse
import collections
import os
import threading
import time
from contextlib import contextmanager

import botocore.client

_counts: collections.Counter = collections.Counter()
_lock = threading.Lock()
_original = botocore.client.BaseClient._make_api_call


def _counting(self, operation_name, api_params):
    with _lock:
        _counts[(self.meta.service_model.service_name, operation_name)] += 1
    return _original(self, operation_name, api_params)


botocore.client.BaseClient._make_api_call = _counting

from functions.store.sqlite.dynamodb import SqliteDynamoDB  # noqa: E402 -- after the hook, like it

_original_sqlite = SqliteDynamoDB._make_api_call


def _counting_sqlite(self, operation_name, api_params):
    with _lock:
        _counts[("dynamodb", operation_name)] += 1
    return _original_sqlite(self, operation_name, api_params)


SqliteDynamoDB._make_api_call = _counting_sqlite  # type: ignore[method-assign]


@contextmanager
def counted():
    with _lock:
        _counts.clear()
    box: dict = {}
    started = time.perf_counter()
    yield box
    box["seconds"] = time.perf_counter() - started
    with _lock:
        box["dynamodb"] = sum(n for (service, _), n in _counts.items() if service == "dynamodb")
        box["by_op"] = {op: n for (service, op), n in _counts.items() if service == "dynamodb"}


CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""
CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]


def _tasks(n: int, predictions: bool = False) -> list[dict]:
    tasks = [{"data": {"text": f"review number {i}"}} for i in range(n)]
    if predictions:
        for t in tasks:
            t["predictions"] = [{"model_version": "bench", "score": 0.5, "result": CHOICE}]
    return tasks


def _wait_import(client, pid: int, body: dict) -> None:
    if "import" not in body:
        return
    while True:
        status = client.get(f"/api/projects/{pid}/imports/{body['import']}").json()
        if status["status"] == "completed":
            return
        if status["status"] == "failed":
            raise RuntimeError(status["error"])
        time.sleep(0.5)


def _project_of(client, size: int) -> tuple[int, list[int]]:
    pid = client.post("/api/projects", json={"title": f"bench {size}", "label_config": CONFIG}).json()["id"]
    body = client.post(f"/api/projects/{pid}/import?return_task_ids=1", json=_tasks(size)).json()
    _wait_import(client, pid, body)
    first = client.get("/api/tasks", params={"project": pid, "page_size": 1}).json()["tasks"][0]["id"]
    return pid, list(range(first, first + size))


def _operations(client, pid: int, ids: list[int], size: int) -> dict[str, dict]:
    mid = ids[len(ids) // 2]
    results = {}
    held: list = []  # the task /next handed out, submitted by the next operation
    ops = {
        "GET /api/projects/{id}": lambda: client.get(f"/api/projects/{pid}"),
        "GET /api/tasks/{id}": lambda: client.get(f"/api/tasks/{mid}"),
        "PATCH /api/tasks/{id} (meta)": lambda: client.patch(f"/api/tasks/{mid}", json={"meta": {"b": 1}}),
        "POST /api/tasks/{id}/annotations": lambda: client.post(
            f"/api/tasks/{mid}/annotations", json={"result": CHOICE}
        ),
        "POST /api/predictions": lambda: client.post(
            "/api/predictions", json={"task": mid, "result": CHOICE}
        ),
        "GET /api/projects/{id}/next": lambda: (
            held.append(client.get(f"/api/projects/{pid}/next")) or held[-1]
        ),
        "GET /next again (held task)": lambda: client.get(f"/api/projects/{pid}/next"),
        "POST annotation on the task from /next": lambda: client.post(
            f"/api/tasks/{held[0].json()['id']}/annotations", json={"result": CHOICE}
        ),
        "GET /next after the submit": lambda: client.get(f"/api/projects/{pid}/next"),
        "GET /api/tasks page 1 (100)": lambda: client.get(
            "/api/tasks", params={"project": pid, "page_size": 100}
        ),
        "GET /api/tasks page 1 fields=all": lambda: client.get(
            "/api/tasks", params={"project": pid, "page_size": 100, "fields": "all"}
        ),
        "GET /api/tasks last page": lambda: client.get(
            "/api/tasks", params={"project": pid, "page_size": 100, "page": (size + 99) // 100}
        ),
        # A page this process served before, or the one after it (a client walking pages 1, 2, 3…):
        # counted from the bookmark, not from page 1 (functions/store/page_bookmarks.py).
        "GET /api/tasks last page again": lambda: client.get(
            "/api/tasks", params={"project": pid, "page_size": 100, "page": (size + 99) // 100}
        ),
    }
    for name, call in ops.items():
        with counted() as box:
            response = call()
        assert response.status_code < 300, (name, response.status_code, response.text[:300])
        results[name] = box
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--import-size", type=int, default=10_000)
    parser.add_argument("--engine", choices=("sqlite", "emulator"), default="sqlite")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from infra.local_stack import LocalStack

    os.environ.setdefault("LABELSTACK_JWT_SECRET", "bench")
    stack = LocalStack(engine="sqlite" if args.engine == "sqlite" else "dynamodb")
    stack.start()
    try:
        from functions.api.app import create_app
        from functions.services import identity

        _, token = identity.ensure_admin("bench@localhost")
        client = TestClient(create_app(), headers={"Authorization": f"Token {token}"})

        print(f"\n## Import (engine {args.engine}, in-process app on this machine)\n")
        print("| import | tasks | seconds | tasks/s | DynamoDB calls | BatchWriteItem | calls per 25 tasks |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for label, preds in (("tasks", False), ("tasks + 1 prediction each", True)):
            pid = client.post("/api/projects", json={"title": "import bench", "label_config": CONFIG}).json()[
                "id"
            ]
            payload = _tasks(args.import_size, preds)
            with counted() as box:
                response = client.post(f"/api/projects/{pid}/import", json=payload)
                _wait_import(client, pid, response.json())
            n = args.import_size
            writes = box["by_op"].get("BatchWriteItem", 0)
            print(
                f"| {label} | {n} | {box['seconds']:.2f} | {n / box['seconds']:.0f} | {box['dynamodb']} "
                f"| {writes} | {writes / (n / 25):.2f} |"
            )

        sizes = (args.small, args.big)
        columns = {}
        for size in sizes:
            started = time.perf_counter()
            pid, ids = _project_of(client, size)
            print(f"\n(built a project of {size} tasks in {time.perf_counter() - started:.1f} s)")
            columns[size] = _operations(client, pid, ids, size)

        print("\n## DynamoDB calls per operation (and latency) by project size\n")
        header = " | ".join(f"{s} tasks: calls | ms" for s in sizes)
        print(f"| operation | {header} |")
        print("|---|" + "---:|---:|" * len(sizes))
        for name in columns[sizes[0]]:
            cells = " | ".join(
                f"{columns[s][name]['dynamodb']} | {columns[s][name]['seconds'] * 1000:.0f}" for s in sizes
            )
            print(f"| {name} | {cells} |")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
