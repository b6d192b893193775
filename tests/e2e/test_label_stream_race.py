"""50 annotators at once on one project, over HTTP against `labelstack dev`: the leases must hold."""

from __future__ import annotations

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.conftest import E2E_TOKEN
from tests.e2e.test_sdk_compat import CHOICE, CONFIG

ANNOTATORS = 50
TASKS = 60
MAXIMUM_ANNOTATIONS = 2


def test_fifty_annotators_never_share_a_task_beyond_maximum_annotations(local_stack):
    admin = httpx.Client(base_url=local_stack, headers={"Authorization": f"Token {E2E_TOKEN}"}, timeout=60)
    project = admin.post(
        "/api/projects/",
        json={"title": "race", "label_config": CONFIG, "maximum_annotations": MAXIMUM_ANNOTATIONS},
    ).json()
    pid = project["id"]
    imported = admin.post(
        f"/api/projects/{pid}/import?return_task_ids=true", json=[{"text": f"task {i}"} for i in range(TASKS)]
    )
    assert imported.status_code == 201
    tokens = []
    for i in range(ANNOTATORS):
        user = admin.post("/api/users/", json={"email": f"racer{i}@example.com", "role": "annotator"}).json()
        assert admin.post(f"/api/projects/{pid}/members/", json={"user": user["id"]}).status_code == 201
        tokens.append((user["id"], user["token"]))

    handed: dict[int, set[int]] = defaultdict(set)
    lock = threading.Lock()
    over: list[tuple[int, set[int]]] = []
    submitted: list[int] = []
    start = threading.Barrier(ANNOTATORS)

    def annotate(user_id: int, token: str) -> None:
        with httpx.Client(
            base_url=local_stack, headers={"Authorization": f"Token {token}"}, timeout=120
        ) as me:
            start.wait()
            while True:
                response = me.get(f"/api/projects/{pid}/next/")
                if response.status_code == 404:
                    return
                assert response.status_code == 200, response.text
                task_id = response.json()["id"]
                with lock:
                    assert user_id not in handed[task_id], "a task came back to someone who answered it"
                    handed[task_id].add(user_id)
                    if len(handed[task_id]) > MAXIMUM_ANNOTATIONS:
                        over.append((task_id, set(handed[task_id])))
                answer = me.post(f"/api/tasks/{task_id}/annotations/", json={"result": CHOICE})
                assert answer.status_code == 201, answer.text
                with lock:
                    submitted.append(answer.json()["id"])

    with ThreadPoolExecutor(ANNOTATORS) as pool:
        for future in [pool.submit(annotate, user_id, token) for user_id, token in tokens]:
            future.result()

    assert over == []
    assert len(submitted) == len(set(submitted)) == TASKS * MAXIMUM_ANNOTATIONS
    stored = 0
    for task in admin.get(f"/api/tasks/?project={pid}&page_size={TASKS}&fields=all").json()["tasks"]:
        assert task["is_labeled"] and task["total_annotations"] == MAXIMUM_ANNOTATIONS
        assert {a["completed_by"] for a in task["annotations"]} == handed[task["id"]]
        stored += len(task["annotations"])
    assert stored == len(submitted)
    project = admin.get(f"/api/projects/{pid}/").json()
    assert project["total_annotations_number"] == TASKS * MAXIMUM_ANNOTATIONS
    assert project["finished_task_number"] == project["num_tasks_with_annotations"] == TASKS
