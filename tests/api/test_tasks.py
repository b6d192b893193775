"""Import, tasks, annotations, predictions and the JSON export through the real app."""

from __future__ import annotations

import json
from functools import partial

import pytest

from functions.store import annotations as annotation_store
from functions.store import predictions as prediction_store
from functions.store import tasks as task_store
from tests.api.parallel import in_parallel, reads_meet
from tests.api.test_projects import create_project

CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]


def import_(api, project_id, tasks, **params):
    response = api.post(
        f"/api/projects/{project_id}/import", params={"return_task_ids": "true", **params}, json=tasks
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_import_with_predictions_and_annotations(api):
    pid = create_project(api)["id"]
    body = import_(
        api,
        pid,
        [
            {"data": {"text": "I love this product"}, "meta": {"source": "sample"}},
            {
                "data": {"text": "Terrible"},
                "predictions": [{"model_version": "v1", "score": 0.93, "result": CHOICE}],
            },
            {"data": {"text": "Tuesday"}, "annotations": [{"result": CHOICE, "lead_time": 3.2}]},
            {"text": "flat dict"},
        ],
    )
    assert body["task_count"] == 4 and body["annotation_count"] == 1 and body["prediction_count"] == 1
    ids = body["task_ids"]
    assert ids == list(range(ids[0], ids[0] + 4))
    project = api.get(f"/api/projects/{pid}").json()
    assert project["task_number"] == 4
    assert project["total_annotations_number"] == 1 and project["total_predictions_number"] == 1
    assert project["ground_truth_number"] == 1  # imported annotations are ground truth (Label Studio's rule)
    task = api.get(f"/api/tasks/{ids[2]}").json()
    assert task["is_labeled"] is True and task["total_annotations"] == 1
    assert task["annotations"][0]["result"] == CHOICE and task["annotations"][0]["lead_time"] == 3.2
    assert api.get(f"/api/tasks/{ids[1]}").json()["predictions"][0]["score"] == 0.93
    assert api.get(f"/api/tasks/{ids[3]}").json()["data"] == {"text": "flat dict"}


def test_import_missing_variable_stores_nothing(api):
    pid = create_project(api)["id"]
    response = api.post(f"/api/projects/{pid}/import", json=[{"text": "ok"}, {"data": {"nottext": 1}}])
    assert response.status_code == 400
    message = response.json()["validation_errors"]["non_field_errors"][0]
    assert message.startswith('Error at item 1: "text" key is expected in task data')
    assert api.get(f"/api/projects/{pid}").json()["task_number"] == 0
    assert api.get("/api/tasks", params={"project": pid}).json()["tasks"] == []


def test_import_unknown_from_name_stores_nothing(api):
    pid = create_project(api)["id"]
    bad = [{**CHOICE[0], "from_name": "sentimnt"}]
    response = api.post(
        f"/api/projects/{pid}/import", json=[{"data": {"text": "x"}, "annotations": [{"result": bad}]}]
    )
    assert response.status_code == 400
    assert "sentimnt" in response.json()["validation_errors"]["non_field_errors"][0]
    assert api.get(f"/api/projects/{pid}").json()["task_number"] == 0


def test_import_files_multipart(api):
    pid = create_project(api)["id"]
    files = [
        ("file", ("a.csv", b"text,extra\nfrom csv,1\nsecond row,2\n", "text/csv")),
        ("file", ("b.jsonl", b'{"text": "line one"}\n{"data": {"text": "line two"}}\n', "application/json")),
        ("file", ("c.tsv", b"text\ttag\ntab row\tx\n", "text/tab-separated-values")),
        ("file", ("d.txt", b"plain one\nplain two\n", "text/plain")),
        ("file", ("e.json", json.dumps([{"text": "json file"}]).encode(), "application/json")),
    ]
    response = api.post(f"/api/projects/{pid}/import?return_task_ids=1", files=files)
    assert response.status_code == 201, response.text
    ids = response.json()["task_ids"]
    texts = [api.get(f"/api/tasks/{i}").json()["data"]["text"] for i in ids]
    assert texts == [
        "from csv",
        "second row",
        "line one",
        "line two",
        "tab row",
        "plain one",
        "plain two",
        "json file",
    ]


def test_idempotent_import_retry_stores_nothing(api):
    pid = create_project(api)["id"]
    headers = {"Idempotency-Key": "import-1"}
    tasks = [{"text": "a"}, {"text": "b"}]
    first = api.post(f"/api/projects/{pid}/import?return_task_ids=1", json=tasks, headers=headers)
    again = api.post(f"/api/projects/{pid}/import?return_task_ids=1", json=tasks, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["task_ids"] == again.json()["task_ids"]
    assert api.get(f"/api/projects/{pid}").json()["task_number"] == 2
    other = api.post(f"/api/projects/{pid}/import", json=[{"text": "c"}], headers=headers)
    assert other.status_code == 400 and "Idempotency-Key" in other.json()["validation_errors"]
    assert api.get(f"/api/projects/{pid}").json()["task_number"] == 2


def test_oversized_body_is_413(app, admin, monkeypatch):
    from fastapi.testclient import TestClient

    from functions.api.app import create_app
    from functions.settings import get_settings

    monkeypatch.setenv("LABELSTACK_MAX_REQUEST_BYTES", "1000")
    get_settings.cache_clear()
    try:
        small_app = create_app()
    finally:
        monkeypatch.delenv("LABELSTACK_MAX_REQUEST_BYTES")
        get_settings.cache_clear()
    with TestClient(small_app, headers={"Authorization": "Token admin-test-token"}) as client:
        response = client.post("/api/projects/1/import", json=[{"text": "x" * 2000}])
    assert response.status_code == 413
    assert "larger than 1000 bytes" in response.json()["detail"]


def test_task_list_pages_and_404_past_last_page(api):
    pid = create_project(api)["id"]
    import_(api, pid, [{"text": f"t{i}"} for i in range(5)])
    page1 = api.get("/api/tasks", params={"project": pid, "page": 1, "page_size": 2}).json()
    assert page1["total"] == 5 and [t["data"]["text"] for t in page1["tasks"]] == ["t0", "t1"]
    page3 = api.get("/api/tasks/", params={"project": pid, "page": 3, "page_size": 2}).json()
    assert [t["data"]["text"] for t in page3["tasks"]] == ["t4"]
    past = api.get("/api/tasks", params={"project": pid, "page": 4, "page_size": 2})
    assert past.status_code == 404 and past.json()["detail"] == "Invalid page."
    full = api.get("/api/tasks", params={"project": pid, "fields": "all", "page_size": 10}).json()
    assert full["tasks"][0]["annotations"] == [] and "predictions" in full["tasks"][0]


def test_task_patch_delete_and_missing_variable(api):
    pid = create_project(api)["id"]
    tid = import_(api, pid, [{"text": "a"}])["task_ids"][0]
    patched = api.patch(f"/api/tasks/{tid}", json={"meta": {"reviewed": True}})
    assert patched.status_code == 200 and patched.json()["meta"] == {"reviewed": True}
    assert api.get(f"/api/tasks/{tid}").json()["meta"] == {"reviewed": True}
    bad = api.patch(f"/api/tasks/{tid}", json={"data": {"other": 1}})
    assert bad.status_code == 400
    assert api.get(f"/api/tasks/{tid}").json()["data"] == {"text": "a"}
    assert api.delete(f"/api/tasks/{tid}").status_code == 204
    missing = api.get(f"/api/tasks/{tid}")
    assert missing.status_code == 404 and missing.json()["detail"] == "No Task matches the given query."
    assert api.get(f"/api/projects/{pid}").json()["task_number"] == 0


def test_annotation_lifecycle_keeps_counters(api):
    pid = create_project(api)["id"]
    tid = import_(api, pid, [{"text": "a"}])["task_ids"][0]
    created = api.post(f"/api/tasks/{tid}/annotations/", json={"result": CHOICE, "lead_time": 4.5})
    assert created.status_code == 201, created.text
    annotation = created.json()
    assert annotation["completed_by"] == api.get("/api/current-user/whoami").json()["id"]
    assert annotation["lead_time"] == 4.5 and annotation["task"] == tid and annotation["project"] == pid
    task = api.get(f"/api/tasks/{tid}").json()
    assert task["is_labeled"] and task["total_annotations"] == 1
    assert api.get(f"/api/projects/{pid}").json()["num_tasks_with_annotations"] == 1
    unknown = api.post(f"/api/tasks/{tid}/annotations", json={"result": [{**CHOICE[0], "from_name": "x"}]})
    assert unknown.status_code == 400 and "result" in unknown.json()["validation_errors"]
    updated = api.patch(
        f"/api/annotations/{annotation['id']}",
        json={"result": [{**CHOICE[0], "value": {"choices": ["Negative"]}}], "ground_truth": True},
    )
    assert updated.status_code == 200 and updated.json()["ground_truth"] is True
    stale = api.patch(f"/api/annotations/{annotation['id']}", json={"result": CHOICE, "version": 0})
    assert stale.status_code == 409
    skipped = api.post(f"/api/tasks/{tid}/annotations?was_cancelled=true", json={"result": []})
    assert skipped.status_code == 201 and skipped.json()["was_cancelled"] is True
    assert len(api.get(f"/api/tasks/{tid}/annotations").json()) == 2
    assert api.get(f"/api/projects/{pid}").json()["skipped_annotations_number"] == 1
    assert api.delete(f"/api/annotations/{annotation['id']}").status_code == 204
    task = api.get(f"/api/tasks/{tid}").json()
    assert not task["is_labeled"] and task["total_annotations"] == 0 and task["cancelled_annotations"] == 1
    project = api.get(f"/api/projects/{pid}").json()
    assert project["total_annotations_number"] == 0 and project["num_tasks_with_annotations"] == 0


def test_predictions_including_bare_string_result(api):
    pid = create_project(api)["id"]
    tid = import_(api, pid, [{"text": "a"}])["task_ids"][0]
    created = api.post(
        "/api/predictions", json={"task": tid, "result": "Negative", "score": 0.7, "model_version": "m1"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["result"][0]["value"] == {"choices": ["Negative"]}
    listed = api.get("/api/predictions/", params={"task": tid}).json()
    assert [p["model_version"] for p in listed] == ["m1"]
    assert api.get(f"/api/tasks/{tid}").json()["total_predictions"] == 1
    pred_id = created.json()["id"]
    assert api.patch(f"/api/predictions/{pred_id}", json={"score": 0.2}).json()["score"] == 0.2
    assert api.delete(f"/api/predictions/{pred_id}").status_code == 204
    assert api.get(f"/api/projects/{pid}").json()["total_predictions_number"] == 0
    bad = api.post("/api/predictions", json={"task": tid, "result": [{**CHOICE[0], "to_name": "nope"}]})
    assert bad.status_code == 400


def test_json_export_default_only_annotated_and_all(api):
    pid = create_project(api)["id"]
    ids = import_(api, pid, [{"text": "a"}, {"text": "b"}])["task_ids"]
    api.post(f"/api/tasks/{ids[0]}/annotations", json={"result": CHOICE})
    default = api.get(f"/api/projects/{pid}/export", params={"exportType": "JSON"}).json()
    assert [t["id"] for t in default] == [ids[0]]
    assert default[0]["annotations"][0]["result"] == CHOICE
    everything = api.get(
        f"/api/projects/{pid}/export", params={"export_type": "JSON", "download_all_tasks": "true"}
    )
    assert [t["id"] for t in everything.json()] == ids
    assert api.get(f"/api/projects/{pid}/export", params={"exportType": "YOLO"}).status_code == 400


def test_large_task_data_is_offloaded_transparently(api):
    pid = create_project(api)["id"]
    big = "word " * 120_000  # ~600 KB: over DynamoDB's 400 KB item limit
    tid = import_(api, pid, [{"text": big}])["task_ids"][0]
    assert api.get(f"/api/tasks/{tid}").json()["data"]["text"] == big


def test_import_over_the_sync_limit_runs_in_the_background(api, monkeypatch):
    import time

    from functions.settings import get_settings

    pid = create_project(api)["id"]
    monkeypatch.setenv("LABELSTACK_SYNC_IMPORT_LIMIT", "10")
    get_settings.cache_clear()
    try:
        body = api.post(
            f"/api/projects/{pid}/import?return_task_ids=1", json=[{"text": f"t{i}"} for i in range(60)]
        ).json()
    finally:
        monkeypatch.delenv("LABELSTACK_SYNC_IMPORT_LIMIT")
        get_settings.cache_clear()
    # Only the job's id, as Label Studio's asynchronous import answers: counts would tell a client (the
    # side-by-side workload did) that an import still running had finished.
    assert "import" in body and not {"task_ids", "task_count", "annotation_count", "duration"} & set(body)
    deadline = time.monotonic() + 30
    while True:
        status = api.get(f"/api/projects/{pid}/imports/{body['import']}/").json()
        if status["status"] in ("completed", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status["status"] == "completed", status
    assert len(status["task_ids"]) == 60
    assert api.get(f"/api/projects/{pid}").json()["task_number"] == 60
    assert api.get(f"/api/tasks/{status['task_ids'][-1]}").json()["data"] == {"text": "t59"}


def test_an_import_cut_off_by_a_stop_is_cleared_and_reported(api, monkeypatch):
    """A background import whose process died half-way: at the next start its tasks are removed and the
    job says why, so the project's counters and its tasks agree."""
    from functions.services import importing, jobs
    from functions.settings import get_settings

    monkeypatch.setenv("LABELSTACK_SYNC_IMPORT_LIMIT", "2")
    get_settings.cache_clear()
    submitted: list[dict] = []
    monkeypatch.setattr(jobs, "submit", lambda kind, payload: submitted.append(payload))
    pid = create_project(api)["id"]
    answer = api.post(f"/api/projects/{pid}/import", json=[{"text": str(i)} for i in range(5)]).json()
    # The job starts, notes its id range and writes its tasks; the process dies before the counters.
    real_add = importing.project_store.add_counters

    def die(*args, **kwargs):
        raise SystemExit("killed")

    monkeypatch.setattr(importing.project_store, "add_counters", die)
    monkeypatch.setattr(importing, "_undo", lambda *a: None)  # a killed process undoes nothing
    with pytest.raises(SystemExit):
        importing.run_import_job(submitted[0]["import_id"])
    monkeypatch.setattr(importing.project_store, "add_counters", real_add)
    assert len(importing.task_store.page_ids(pid, 0, 10)) == 5  # written, not counted

    assert importing.clear_interrupted() == 1
    job = api.get(f"/api/projects/{pid}/imports/{answer['import']}").json()
    assert job["status"] == "failed" and "import the file again" in job["error"]
    assert importing.task_store.page_ids(pid, 0, 10) == []
    assert api.get(f"/api/projects/{pid}").json()["task_number"] == 0
    assert importing.clear_interrupted() == 0
    monkeypatch.delenv("LABELSTACK_SYNC_IMPORT_LIMIT")
    get_settings.cache_clear()


def test_parallel_task_patches_without_a_version_all_land(api, monkeypatch):
    """What a label-studio-sdk script's threads send: PATCHes of `meta` (and `data`) with no version,
    of many tasks and several of the same task. Label Studio answers them all; so must we, keeping each."""
    pid = create_project(api)["id"]
    ids = import_(api, pid, [{"text": f"t{i}"} for i in range(11)])["task_ids"]
    shared, others = ids[0], ids[1:]
    calls = [partial(api.patch, f"/api/tasks/{shared}", json={"data": {"text": "replaced"}})]
    calls += [partial(api.patch, f"/api/tasks/{shared}", json={"meta": {"pass": n}}) for n in range(19)]
    calls += [partial(api.patch, f"/api/tasks/{tid}/", json={"meta": {"tagged": tid}}) for tid in others]
    reads_meet(monkeypatch, task_store, "get", parties=len(calls))
    answers = in_parallel(calls)
    assert [a.status_code for a in answers] == [200] * len(calls), [a.text for a in answers]
    got = api.get(f"/api/tasks/{shared}")
    task = got.json()
    # No meta PATCH put back the data it never carried; the meta is one of those sent, whole.
    assert task["data"] == {"text": "replaced"} and task["meta"] in [{"pass": n} for n in range(19)]
    for n, tid in enumerate(others, start=1):
        other = api.get(f"/api/tasks/{tid}").json()
        assert (other["data"], other["meta"]) == ({"text": f"t{n}"}, {"tagged": tid})
    assert got.headers["ETag"] == '"20"'


def test_a_task_patch_with_a_stale_version_is_a_conflict_and_changes_nothing(api):
    pid = create_project(api)["id"]
    url = f"/api/tasks/{import_(api, pid, [{'text': 'a'}])['task_ids'][0]}"
    read = api.get(url)
    assert read.headers["ETag"] == '"0"' and "version" not in read.json()
    first = api.patch(url, json={"meta": {"m": 1}}, headers={"If-Match": read.headers["ETag"]})
    assert first.status_code == 200 and first.headers["ETag"] == '"1"' and "version" not in first.json()
    stale_header = api.patch(url, json={"data": {"text": "b"}}, headers={"If-Match": read.headers["ETag"]})
    stale_body = api.patch(url, json={"data": {"text": "c"}, "meta": {"m": 2}, "version": 0})
    assert stale_header.status_code == 409 and stale_body.status_code == 409
    task = api.get(url).json()
    assert (task["data"], task["meta"]) == ({"text": "a"}, {"m": 1})
    current = api.patch(url, json={"data": {"text": "d"}, "version": 1})
    assert current.status_code == 200 and current.json()["data"] == {"text": "d"}
    assert current.json()["meta"] == {"m": 1}
    assert api.patch("/api/tasks/999999", json={"meta": {}}).status_code == 404


def test_parallel_annotation_changes_and_a_review_all_land(api, monkeypatch):
    pid = create_project(api)["id"]
    tid = import_(api, pid, [{"text": "a"}])["task_ids"][0]
    annotation = api.post(f"/api/tasks/{tid}/annotations", json={"result": CHOICE, "lead_time": 1.0}).json()
    url = f"/api/annotations/{annotation['id']}"
    negative = [{**CHOICE[0], "value": {"choices": ["Negative"]}}]
    reads_meet(monkeypatch, annotation_store, "get", parties=5)
    answers = in_parallel(
        [
            partial(api.patch, url, json={"result": negative}),
            partial(api.patch, url, json={"lead_time": 9.5}),
            partial(api.patch, url, json={"ground_truth": True}),
            partial(api.patch, url, json={"last_action": "updated"}),
            partial(
                api.post, "/api/annotation-reviews", json={"annotation": annotation["id"], "accepted": True}
            ),
        ]
    )
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 201], [a.text for a in answers]
    stored = api.get(url).json()
    assert (stored["result"], stored["lead_time"], stored["ground_truth"], stored["last_action"]) == (
        negative,
        9.5,
        True,
        "updated",
    )
    assert stored["review_status"] == "accepted"
    assert api.get(f"/api/projects/{pid}").json()["ground_truth_number"] == 1
    stale = api.patch(url, json={"lead_time": 2.0}, headers={"If-Match": '"0"'})
    assert stale.status_code == 409
    current = api.patch(url, json={"lead_time": 2.0}, headers={"If-Match": api.get(url).headers["ETag"]})
    assert current.status_code == 200 and current.json()["lead_time"] == 2.0


def test_parallel_prediction_changes_all_land(api, monkeypatch):
    pid = create_project(api)["id"]
    tid = import_(api, pid, [{"text": "a"}])["task_ids"][0]
    created = api.post(
        "/api/predictions", json={"task": tid, "result": CHOICE, "score": 0.5, "model_version": "m1"}
    )
    url = f"/api/predictions/{created.json()['id']}"
    reads_meet(monkeypatch, prediction_store, "get", parties=3)
    answers = in_parallel(
        [
            partial(api.patch, url, json={"result": "Negative"}),
            partial(api.patch, url, json={"score": 0.25}),
            partial(api.patch, url, json={"model_version": "m2"}),
        ]
    )
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    stored = api.get(url).json()
    assert stored["result"][0]["value"] == {"choices": ["Negative"]}
    assert (stored["score"], stored["model_version"]) == (0.25, "m2")
    assert api.patch("/api/predictions/999999", json={"score": 0.1}).status_code == 404


def test_walking_pages_after_deletes_and_imports_gives_every_task_once(api, monkeypatch):
    """The SDK's walk (pages 1, 2, 3…) starts each page at a bookmark; deletes and imports in between
    must not leave a bookmark pointing at the wrong place."""
    monkeypatch.setattr(task_store, "INDEX_SETTLE_SECONDS", 0.0)  # moto's index is current at once
    pid = create_project(api)["id"]

    def walk() -> list[str]:
        texts, page = [], 1
        while True:
            answer = api.get("/api/tasks", params={"project": pid, "page": page, "page_size": 7})
            if answer.status_code == 404:
                return texts
            texts += [t["data"]["text"] for t in answer.json()["tasks"]]
            page += 1

    ids = import_(api, pid, [{"text": f"t{i}"} for i in range(40)])["task_ids"]
    assert walk() == [f"t{i}" for i in range(40)]
    for tid in ids[:3] + ids[20:22]:
        assert api.delete(f"/api/tasks/{tid}").status_code == 204
    expected = [f"t{i}" for i in range(40) if i not in (0, 1, 2, 20, 21)]
    assert walk() == expected
    api.post(
        f"/api/dm/actions?id=delete_tasks&project={pid}",
        json={"selectedItems": {"all": False, "included": ids[5:7]}},
    )
    import_(api, pid, [{"text": "new"}])
    assert walk() == [t for t in expected if t not in ("t5", "t6")] + ["new"]
