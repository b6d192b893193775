"""`labelstack serve --workers 2`: two processes answer on one port, racing annotators still never share a
task (SQLite's write lock holds between processes as between threads), and a `kill -9` of the server
leaves no worker behind on the port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from infra.local_stack import free_port
from tests.conftest import ENGINE
from tests.e2e.test_restart import CHOICE, CONFIG

pytestmark = pytest.mark.skipif(ENGINE != "sqlite", reason="--workers needs the sqlite engine")

TOKEN = "workers-admin-token-0123456789"
ANNOTATORS = 20
TASKS = 60


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()  # not the resource tracker
    except FileNotFoundError:
        return False


def test_two_workers_share_the_stream_and_die_with_the_server(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, LABELSTACK_ADMIN_TOKEN=TOKEN, PYTHONUNBUFFERED="1")
    env.pop("LABELSTACK_AWS_ENDPOINT_URL", None)
    command = ["serve", "--data-dir", str(tmp_path / "data"), "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert server.poll() is None and time.monotonic() < deadline, "labelstack serve did not start"
                time.sleep(0.2)
        workers = [pid for pid in _children(server.pid) if _is_worker(pid)]
        assert len(workers) == 2, workers

        admin = httpx.Client(base_url=url, headers={"Authorization": f"Token {TOKEN}"}, timeout=60)
        pid = admin.post("/api/projects", json={"title": "two workers", "label_config": CONFIG}).json()["id"]
        assert admin.post(
            f"/api/projects/{pid}/import", json=[{"text": f"t{i}"} for i in range(TASKS)]
        ).is_success
        tokens = []
        for n in range(ANNOTATORS):
            user = admin.post("/api/users", json={"email": f"w{n}@example.com", "role": "annotator"}).json()
            assert admin.post(f"/api/projects/{pid}/members", json={"user": user["id"]}).status_code < 300
            tokens.append(user["token"])

        handed: dict[int, list[str]] = {}
        lock = threading.Lock()
        start = threading.Barrier(ANNOTATORS)

        def annotate(token: str) -> int:
            done = 0
            with httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=60) as me:
                start.wait()
                while (task := me.get(f"/api/projects/{pid}/next")).status_code == 200:
                    with lock:
                        handed.setdefault(task.json()["id"], []).append(token)
                    answer = me.post(f"/api/tasks/{task.json()['id']}/annotations", json={"result": CHOICE})
                    assert answer.status_code == 201, answer.text
                    done += 1
            return done

        with ThreadPoolExecutor(ANNOTATORS) as pool:
            answered = sum(pool.map(annotate, tokens))
        assert answered == len(handed) == TASKS
        assert all(len(who) == 1 for who in handed.values()), {t: w for t, w in handed.items() if len(w) > 1}
        project = admin.get(f"/api/projects/{pid}").json()
        assert project["total_annotations_number"] == project["finished_task_number"] == TASKS

        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        deadline = time.monotonic() + 15
        while any(Path(f"/proc/{w}").exists() and _is_worker(w) for w in workers):
            assert time.monotonic() < deadline, "a worker outlived the killed server"
            time.sleep(0.2)
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{url}/health", timeout=1)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
