"""`labelstack dev` keeps its data: `kill -9` while annotators submit, restart on the same data directory,
and everything that was answered with a 2xx is still there, counted right, with working credentials, its
webhooks delivered once, and no child process outlived the killed stack.

Runs on the sqlite engine only: the emulator engine keeps its data in memory by design.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from functions.store.sqlite.database import FILE_NAME
from infra.local_stack import free_port
from tests.conftest import ENGINE
from tests.e2e.conftest import dev_command, stop_dev

pytestmark = pytest.mark.skipif(ENGINE != "sqlite", reason="the emulator engine keeps nothing by design")

TOKEN = "restart-admin-token-0123456789"
ANNOTATORS = 20
CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""
CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]


def start(data_dir, port: int) -> tuple[subprocess.Popen, dict[str, str]]:
    env = dict(os.environ, LABELSTACK_ADMIN_TOKEN=TOKEN, PYTHONUNBUFFERED="1")
    env.pop("LABELSTACK_AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [*dev_command(data_dir), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    banner: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        key, _, value = line.strip().partition(": ")
        if value:
            banner[key.strip()] = value.strip()
        if line.startswith("Ctrl-C stops it."):
            break
    else:
        raise AssertionError(f"labelstack dev exited early: {banner}")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, banner
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("labelstack dev did not answer /health")


class Receiver(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1 that keeps (delivery id, annotation id) of every POST."""

    def __init__(self):
        self.got: list[tuple[str, int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.got.append((self.headers["X-Labelstack-Delivery"], body["annotation"]["id"]))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


def test_kill_9_while_annotators_submit_loses_nothing_that_was_answered(tmp_path):
    data_dir, port = tmp_path / "data", free_port()
    url = f"http://127.0.0.1:{port}"
    admin = {"Authorization": f"Token {TOKEN}"}
    receiver = Receiver()
    process, banner = start(data_dir, port)
    try:
        with httpx.Client(base_url=url, headers=admin, timeout=30) as api:
            pid = api.post("/api/projects", json={"title": "kept", "label_config": CONFIG}).json()["id"]
            hook = {
                "project": pid,
                "url": receiver.url,
                "send_for_all_actions": False,
                "actions": ["ANNOTATION_CREATED"],
                "send_payload": True,
            }
            assert api.post("/api/webhooks", json=hook).status_code == 201
            imported = api.post(
                f"/api/projects/{pid}/import",
                params={"return_task_ids": 1},
                json=[{"text": f"review {i}"} for i in range(600)],
            )
            assert imported.status_code == 201, imported.text
            user = api.post("/api/users", json={"email": "ann@example.com", "role": "annotator"}).json()
            assert api.post(f"/api/projects/{pid}/members", json={"user": user["id"]}).status_code < 300

        answered: list[int] = []
        stop = threading.Event()

        def annotator(n: int) -> None:
            with httpx.Client(base_url=url, headers=admin, timeout=30) as client:
                for task_id in imported.json()["task_ids"][n::ANNOTATORS]:
                    if stop.is_set():
                        return
                    try:
                        response = client.post(f"/api/tasks/{task_id}/annotations", json={"result": CHOICE})
                    except httpx.HTTPError:
                        return  # the server died mid-request: this one was never answered
                    if response.status_code == 201:
                        answered.append(response.json()["id"])

        threads = [threading.Thread(target=annotator, args=(n,)) for n in range(ANNOTATORS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(answered) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)  # the whole stack: API, pumps, emulator; no clean-up runs
        process.wait()
        stop.set()
        for t in threads:
            t.join()
        assert len(answered) >= 40

        # The model server was the stack's child: it must not outlive it.
        model_url = banner["ml backend"].split()[0]
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(f"{model_url}/health", timeout=0.5)
            except httpx.HTTPError:
                break
            assert time.monotonic() < deadline, "the model server outlived the killed stack"
            time.sleep(0.2)

        process, _ = start(data_dir, port)
        with httpx.Client(base_url=url, headers=admin, timeout=60) as api:
            project = api.get(f"/api/projects/{pid}").json()
            assert project["task_number"] == 600
            exported = api.get(f"/api/projects/{pid}/export", params={"exportType": "JSON"}).json()
            stored = {a["id"] for task in exported for a in task["annotations"]}
            assert set(answered) <= stored  # every 2xx survived
            assert project["total_annotations_number"] == len(stored)  # and the counters agree
            assert project["num_tasks_with_annotations"] == sum(1 for t in exported if t["annotations"])
            # Users and their tokens outlive the restart too.
            me = httpx.get(
                f"{url}/api/current-user/whoami", headers={"Authorization": f"Token {user['token']}"}
            )
            assert me.status_code == 200 and me.json()["email"] == "ann@example.com"
        # Every stored annotation's webhook arrives, resumed after the restart, and none is sent again
        # because of it. The one window no sender can close (killed after the receiver answered, before
        # the delivery was logged) repeats at most the delivery in flight, under the same delivery id.
        deadline = time.monotonic() + 60
        while {a for _, a in receiver.got} != stored and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # anything sent twice arrives by now
        assert {a for _, a in receiver.got} == stored
        repeated = [a for a, n in Counter(a for _, a in receiver.got).items() if n > 1]
        assert len(repeated) <= 1, repeated
        assert len({d for d, a in receiver.got if a in repeated}) == len(repeated)  # same delivery id
    finally:
        stop_dev(process)
        receiver.shutdown()


def test_kill_9_during_a_background_import_leaves_the_project_consistent(tmp_path):
    data_dir, port = tmp_path / "data", free_port()
    url = f"http://127.0.0.1:{port}"
    admin = {"Authorization": f"Token {TOKEN}"}
    process, _ = start(data_dir, port)
    try:
        with httpx.Client(base_url=url, headers=admin, timeout=60) as api:
            kept = api.post("/api/projects", json={"title": "committed", "label_config": CONFIG}).json()["id"]
            assert api.post(
                f"/api/projects/{kept}/import", json=[{"text": f"r{i}"} for i in range(1000)]
            ).is_success
            pid = api.post("/api/projects", json={"title": "big", "label_config": CONFIG}).json()["id"]
            started = api.post(
                f"/api/projects/{pid}/import", json=[{"text": f"review {i}"} for i in range(30_000)]
            )
            assert started.status_code == 201, started.text
            import_id = started.json()["import"]  # over the sync limit: a background job
        # Kill it once the job has written part of the project, before it finishes: watched in the
        # database file itself (a reader beside the server's writer), as the API's answers would come
        # too late while the job keeps the server busy.
        written = 0
        deadline = time.monotonic() + 60
        with sqlite3.connect(data_dir / FILE_NAME) as database:
            while written <= 1000 and time.monotonic() < deadline:
                written = database.execute("SELECT count(*) FROM items WHERE tbl LIKE '%tasks'").fetchone()[0]
                time.sleep(0.001)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert 1000 < written < 31_000, written  # the big import was under way

        process, _ = start(data_dir, port)
        with httpx.Client(base_url=url, headers=admin, timeout=60) as api:
            job = api.get(f"/api/projects/{pid}/imports/{import_id}").json()
            project = api.get(f"/api/projects/{pid}").json()
            listed = api.get("/api/tasks", params={"project": pid, "page_size": 1}).json()["total"]
            # Cut off: nothing of it kept, and it says why.
            assert job["status"] == "failed" and "stopped" in job["error"]
            assert project["task_number"] == listed == 0
            assert api.get(f"/api/projects/{kept}").json()["task_number"] == 1000
            # The same file imports whole after the restart.
            again = api.post(
                f"/api/projects/{pid}/import", json=[{"text": f"review {i}"} for i in range(30_000)]
            ).json()
            deadline = time.monotonic() + 120
            while api.get(f"/api/projects/{pid}/imports/{again['import']}").json()["status"] != "completed":
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert api.get(f"/api/projects/{pid}").json()["task_number"] == 30_000
    finally:
        stop_dev(process)
