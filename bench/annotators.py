"""Many annotators labeling one project at once, over HTTP against `labelstack serve`.

Starts `labelstack serve` (the sqlite engine, a fresh data directory) as a team would on one server,
imports a project of `--tasks` tasks, makes `--annotators` annotators its members, and lets each one loop
`GET /api/projects/{id}/next` -> (`--think-ms`: a person looking at the task) -> `POST
/api/tasks/{id}/annotations` until `/next` answers 404, all at once, for each overlap asked
(`maximum_annotations`). Back to back (think 0) measures how many answers per second the server takes;
its latencies are then mostly queueing (50 clients always waiting). With a think time the latencies are
what an annotator waits for. Prints answers per second and the latency of both
calls, then checks what a race could break: no task handed to more annotators than its overlap, no task
handed twice to one annotator, every 2xx annotation stored, and the counters equal to what is stored.

    .venv/bin/python -m bench.annotators [--annotators 50] [--tasks 500] [--overlap 1 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from bench.api_calls import CHOICE, CONFIG

TOKEN = "bench-annotators-admin-token"


@dataclass
class Round:
    overlap: int
    think: float
    seconds: float = 0.0
    next_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    handed: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    submitted: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def start_server(data_dir: str, port: int, workers: int, threads: int = 8) -> subprocess.Popen:
    env = dict(os.environ, LABELSTACK_ADMIN_TOKEN=TOKEN, PYTHONUNBUFFERED="1")
    command = ["serve", "--data-dir", data_dir, "--port", str(port), "--workers", str(workers)]
    command += ["--threads", str(threads)]
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("labelstack serve did not answer /health within 60 s")


def run_round(base: str, annotators: int, tasks: int, overlap: int, think: float) -> Round:
    admin = httpx.Client(base_url=base, headers={"Authorization": f"Token {TOKEN}"}, timeout=120)
    pid = admin.post(
        "/api/projects",
        json={"title": f"race overlap {overlap}", "label_config": CONFIG, "maximum_annotations": overlap},
    ).json()["id"]
    assert admin.post(
        f"/api/projects/{pid}/import", json=[{"text": f"t{i}"} for i in range(tasks)]
    ).is_success
    members = []
    for i in range(annotators):
        user = admin.post(
            "/api/users", json={"email": f"p{pid}-annotator{i}@example.com", "role": "annotator"}
        ).json()
        assert admin.post(f"/api/projects/{pid}/members", json={"user": user["id"]}).status_code == 201
        members.append((user["id"], user["token"]))

    result = Round(overlap, think)
    lock = threading.Lock()
    gate = threading.Barrier(annotators + 1)

    def annotate(user_id: int, token: str) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Token {token}"}, timeout=120) as me:
            gate.wait()
            while True:
                started = time.perf_counter()
                got = me.get(f"/api/projects/{pid}/next")
                next_ms = (time.perf_counter() - started) * 1000
                if got.status_code == 404:
                    return
                if got.status_code != 200:
                    with lock:
                        result.problems.append(f"/next answered {got.status_code}")
                    return
                task_id = got.json()["id"]
                if think:
                    time.sleep(think)
                started = time.perf_counter()
                answer = me.post(f"/api/tasks/{task_id}/annotations", json={"result": CHOICE})
                submit_ms = (time.perf_counter() - started) * 1000
                with lock:
                    result.next_ms.append(next_ms)
                    result.submit_ms.append(submit_ms)
                    if user_id in result.handed[task_id]:
                        result.problems.append(f"task {task_id} handed twice to user {user_id}")
                    result.handed[task_id].add(user_id)
                    if answer.status_code == 201:
                        result.submitted.append(answer.json()["id"])
                    else:
                        result.problems.append(f"submit answered {answer.status_code}")

    with ThreadPoolExecutor(annotators) as pool:
        futures = [pool.submit(annotate, user_id, token) for user_id, token in members]
        gate.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        result.seconds = time.perf_counter() - started

    over = [t for t, users in result.handed.items() if len(users) > overlap]
    if over:
        result.problems.append(f"{len(over)} tasks handed to more than {overlap} annotators")
    if len(result.submitted) != len(set(result.submitted)):
        result.problems.append("an annotation id was returned twice")
    if len(result.submitted) != tasks * overlap:
        result.problems.append(f"{len(result.submitted)} annotations, expected {tasks * overlap}")
    listed = admin.get(f"/api/tasks?project={pid}&page_size={tasks}&fields=all").json()["tasks"]
    stored = {a["id"] for task in listed for a in task["annotations"]}
    if stored != set(result.submitted):
        result.problems.append(f"stored {len(stored)} annotations, answered {len(set(result.submitted))}")
    project = admin.get(f"/api/projects/{pid}").json()
    if project["total_annotations_number"] != len(stored):
        result.problems.append(f"project counter {project['total_annotations_number']} != {len(stored)}")
    return result


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else (values or [0])[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--overlap", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--think-ms",
        type=float,
        nargs="+",
        default=[0, 300],
        help="how long an annotator looks at a task before submitting (0: back to back)",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=1, help="labelstack serve --workers")
    parser.add_argument("--threads", type=int, default=8, help="labelstack serve --threads")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="labelstack-bench-") as data_dir:
        server = start_server(data_dir, args.port, args.workers, args.threads)
        try:
            rounds = [
                run_round(f"http://127.0.0.1:{args.port}", args.annotators, args.tasks, overlap, think / 1000)
                for think in args.think_ms
                for overlap in args.overlap
            ]
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(
        f"\n## {args.annotators} annotators on one {args.tasks}-task project "
        f"(labelstack serve --workers {args.workers} --threads {args.threads}, sqlite)\n"
    )
    print(
        "| think ms | overlap | answers | seconds | answers/s | /next p50 ms | /next p95 ms | submit p50 ms "
        "| submit p95 ms | problems |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rounds:
        print(
            f"| {r.think * 1000:.0f} | {r.overlap} | {len(r.submitted)} | {r.seconds:.1f} "
            f"| {len(r.submitted) / r.seconds:.0f} "
            f"| {statistics.median(r.next_ms):.0f} | {_pct(r.next_ms, 95):.0f} "
            f"| {statistics.median(r.submit_ms):.0f} | {_pct(r.submit_ms, 95):.0f} "
            f"| {'; '.join(r.problems) or 'none'} |"
        )
    if any(r.problems for r in rounds):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
