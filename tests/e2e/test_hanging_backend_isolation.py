"""A hanging ML backend never holds the API's request workers: against `labelstack dev` (uvicorn on its 8
worker threads), 45 requests waiting on a backend that never answers (the test prediction, Retrieve
Predictions on one task, interactive pre-annotation: 15 of each) leave `/health` and the label stream
answering at once, and each of the 45 ends with the reason when the backend's timeout passes."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.conftest import E2E_TOKEN
from tests.ml.harness import BackendProcess

CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
    '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>'
)
WAITING = 45
TIMEOUT = 8.0  # the hanging backend's `timeout`: long enough to measure while all 45 wait
QUICK = 0.1


@pytest.fixture
def fault_server(tmp_path):
    process = BackendProcess("tests.ml.fault_backend", tmp_path)
    yield process
    process.stop()


def hang_calls(server: BackendProcess) -> int:
    return server._call("GET", "/_calls").get("hang", 0)


def timed(client: httpx.Client, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    status = client.get(path).status_code
    return time.perf_counter() - started, status


def test_45_requests_on_a_hanging_backend_leave_health_and_next_quick(local_stack, fault_server):
    headers = {"Authorization": f"Token {E2E_TOKEN}"}
    with httpx.Client(base_url=local_stack, headers=headers, timeout=60) as api:
        pid = api.post("/api/projects", json={"title": "hang", "label_config": CONFIG}).json()["id"]
        imported = api.post(
            f"/api/projects/{pid}/import",
            params={"return_task_ids": "true"},
            json=[{"data": {"text": f"t{i}"}} for i in range(5)],
        )
        task_ids = imported.json()["task_ids"]
        created = api.post(
            "/api/ml",
            json={
                "project": pid,
                "url": f"{fault_server.url}/hang",
                "title": "hang",
                "timeout": TIMEOUT,
                "is_interactive": True,
            },
        )
        assert created.status_code == 201, created.text
        backend_id = created.json()["id"]

        def call_backend(i: int) -> tuple[str, httpx.Response]:
            with httpx.Client(base_url=local_stack, headers=headers, timeout=60) as own:
                if i % 3 == 0:
                    return "test", own.post(f"/api/ml/{backend_id}/predict/test", params={"random": "true"})
                if i % 3 == 1:
                    return "retrieve", own.post(
                        "/api/dm/actions",
                        params={"id": "retrieve_tasks_predictions", "project": pid},
                        json={"selectedItems": {"all": False, "included": [task_ids[i % 5]]}},
                    )
                return "interactive", own.post(
                    f"/api/ml/{backend_id}/interactive-annotating", json={"task": task_ids[i % 5]}
                )

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=WAITING) as pool:
            waiting = [pool.submit(call_backend, i) for i in range(WAITING)]
            while hang_calls(fault_server) < WAITING:
                assert time.monotonic() - started < TIMEOUT / 2, (
                    f"only {hang_calls(fault_server)} of {WAITING} requests reached the backend"
                )
                time.sleep(0.05)
            # All 45 are now waiting on the backend; the API's own workers must be free.
            health = [timed(api, "/health") for _ in range(5)]
            nexts = [timed(api, f"/api/projects/{pid}/next") for _ in range(5)]
            still_waiting = sum(not f.done() for f in waiting)
            answers = [f.result() for f in waiting]
        ended = time.monotonic() - started

    assert still_waiting == WAITING  # measured while every request was still held by the backend
    assert all(status == 200 for _, status in health + nexts), (health, nexts)
    # Held workers would make every probe wait for the backend's timeout; free ones answer at once. The
    # median is the claim; the slowest probe only has to beat the timeout by far, as on a machine busy with
    # other work (CI runs two suites at once) one probe can wait for a core.
    for probes in (health, nexts):
        seconds = sorted(s for s, _ in probes)
        assert seconds[len(seconds) // 2] < QUICK and seconds[-1] < TIMEOUT / 2, probes
    reason = f"timed out after {TIMEOUT:g} s"
    for kind, answer in answers:
        assert answer.status_code == 200, (kind, answer.text)
        body = answer.json()
        if kind == "test":
            assert body["status"] == 500 and reason in body["error_message"]
        elif kind == "retrieve":
            assert body["processed_items"] == 0 and reason in body["detail"]
        else:
            assert reason in body["errors"][0]
    assert ended < TIMEOUT + 5, f"the 45 requests took {ended:.1f} s with an {TIMEOUT:g} s timeout"
    with httpx.Client(base_url=local_stack, headers=headers, timeout=60) as api:
        backend = api.get(f"/api/ml/{backend_id}").json()
    assert backend["state"] == "ER" and "timed out" in backend["error_message"]
