"""Import, tasks, annotations, predictions and the JSON export through the real app."""

from __future__ import annotations

import json

import pytest

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
    assert "import" in body and "task_ids" not in body
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
