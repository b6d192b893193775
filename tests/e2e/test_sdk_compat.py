"""label-studio-sdk, unmodified, against `labelstack dev`: both the legacy `Client` and `LabelStudio`."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import E2E_TOKEN

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>
  </Choices>
</View>"""
CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]


def test_startup_prints_token_and_serves_version(local_stack):
    version = httpx.get(f"{local_stack}/api/version/").json()
    assert version["edition"] == "Community"
    me = httpx.get(f"{local_stack}/api/current-user/whoami", headers={"Authorization": f"Token {E2E_TOKEN}"})
    assert me.status_code == 200 and me.json()["role"] == "admin"


def test_legacy_client(local_stack):
    from label_studio_sdk import Client

    ls = Client(url=local_stack, api_key=E2E_TOKEN)
    assert ls.check_connection()["status"] == "UP"
    project = ls.start_project(title="legacy client", label_config=CONFIG)
    assert project.id > 0
    ids = project.import_tasks([{"text": "I love it"}, {"text": "Terrible"}, {"data": {"text": "Tuesday"}}])
    assert len(ids) == 3
    tasks = project.get_tasks()  # pages until the 404 past the last page
    assert [t["data"]["text"] for t in tasks] == ["I love it", "Terrible", "Tuesday"]
    project.update_task(ids[0], meta={"reviewed": True})
    assert project.get_task(ids[0])["meta"] == {"reviewed": True}
    project.create_prediction(ids[1], result="Negative", score=0.8, model_version="legacy-m")
    project.create_annotation(ids[0], result=CHOICE, lead_time=1.5)
    exported = project.export_tasks(export_type="JSON")
    # Label Studio's default export: only tasks with annotations.
    assert [t["id"] for t in exported] == [ids[0]]
    assert exported[0]["annotations"][0]["result"] == CHOICE
    # The Data Manager filter the legacy client sends for "labeled tasks".
    assert [t["id"] for t in project.get_labeled_tasks()] == [ids[0]]
    assert project.get_task(ids[1])["predictions"][0]["result"][0]["value"] == {"choices": ["Negative"]}
    created = project.create_predictions(
        [
            {"task": ids[0], "result": CHOICE, "score": 0.7, "model_version": "bulk"},
            {"task": ids[2], "result": "Neutral", "model_version": "bulk"},
        ]
    )
    assert created == {"created": 2}
    assert [p["model_version"] for p in project.get_task(ids[2])["predictions"]] == ["bulk"]
    # Label Studio's Data Manager action with no body acts on every task.
    deleted = httpx.post(
        f"{local_stack}/api/dm/actions?id=delete_tasks_predictions&project={project.id}",
        headers={"Authorization": f"Token {E2E_TOKEN}"},
    )
    assert deleted.status_code == 200 and deleted.json()["processed_items"] == 3
    assert all(not project.get_task(i)["predictions"] for i in ids)
    assert project.id in [p.id for p in ls.list_projects()]


@pytest.mark.parametrize("kind", ["legacy token", "personal access token"])
def test_labelstudio_client(local_stack, kind):
    from label_studio_sdk import LabelStudio

    key = E2E_TOKEN
    if kind == "personal access token":
        key = httpx.post(f"{local_stack}/api/token/", headers={"Authorization": f"Token {E2E_TOKEN}"}).json()[
            "token"
        ]
    ls = LabelStudio(base_url=local_stack, api_key=key)
    project = ls.projects.create(title=f"new client {kind}"[:50], label_config=CONFIG)
    response = ls.projects.import_tasks(
        id=project.id, request=[{"data": {"text": "a"}}, {"data": {"text": "b"}}], return_task_ids=True
    )
    assert response.task_count == 2 and len(response.task_ids) == 2
    tasks = list(ls.tasks.list(project=project.id))
    assert [t.data["text"] for t in tasks] == ["a", "b"]
    ls.tasks.update(id=str(tasks[0].id), meta={"checked": 1})
    assert ls.tasks.get(id=tasks[0].id).meta == {"checked": 1}
    prediction = ls.predictions.create(task=tasks[1].id, result=CHOICE, score=0.9, model_version="m")
    assert prediction.model_version == "m"
    ls.annotations.create(id=tasks[0].id, result=CHOICE, lead_time=2.0)
    exported = ls.projects.exports.as_json(project.id)
    assert len(exported) == 2 and exported[0]["annotations"][0]["result"] == CHOICE
    ls.projects.delete(id=project.id)
    assert (
        httpx.get(
            f"{local_stack}/api/projects/{project.id}", headers={"Authorization": f"Token {E2E_TOKEN}"}
        ).status_code
        == 404
    )


def test_sdk_threads_update_tasks_and_a_project_in_parallel(local_stack):
    """A script's threads PATCH `meta` of many tasks, several of one task, and project settings, sending no
    version (the SDK never does): Label Studio answers every one, and so must labelstack, keeping each.
    The SDK's own retries (it retries a 409) are turned off, so a conflict would show."""
    from concurrent.futures import ThreadPoolExecutor

    from label_studio_sdk import LabelStudio

    ls = LabelStudio(base_url=local_stack, api_key=E2E_TOKEN)
    once = {"max_retries": 0}
    project = ls.projects.create(title="parallel", label_config=CONFIG)
    ids = ls.projects.import_tasks(
        id=project.id, request=[{"text": f"t{i}"} for i in range(10)], return_task_ids=True
    ).task_ids
    calls = [
        lambda tid=tid: ls.tasks.update(id=str(tid), meta={"tagged": tid}, request_options=once)
        for tid in ids[1:]
    ]
    calls += [
        lambda n=n: ls.tasks.update(id=str(ids[0]), meta={"pass": n}, request_options=once) for n in range(6)
    ]
    calls += [
        lambda: ls.projects.update(id=project.id, description="described", request_options=once),
        lambda: ls.projects.update(id=project.id, color="#123456", request_options=once),
        lambda: ls.projects.update(id=project.id, expert_instruction="look closely", request_options=once),
        lambda: ls.projects.update(id=project.id, show_instruction=True, request_options=once),
        lambda: ls.projects.update(id=project.id, maximum_annotations=2, request_options=once),
    ]
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        list(pool.map(lambda call: call(), calls))  # the SDK raises on any error answer
    for tid in ids[1:]:
        assert ls.tasks.get(id=tid).meta == {"tagged": tid}
    assert ls.tasks.get(id=ids[0]).meta in [{"pass": n} for n in range(6)]
    stored = ls.projects.get(id=project.id)
    assert (stored.description, stored.color, stored.expert_instruction) == (
        "described",
        "#123456",
        "look closely",
    )
    assert stored.show_instruction is True and stored.maximum_annotations == 2
    ls.projects.delete(id=project.id)


def test_100k_task_import_runs_in_the_background(local_stack):
    from label_studio_sdk import Client

    ls = Client(url=local_stack, api_key=E2E_TOKEN)
    project = ls.start_project(title="100k", label_config=CONFIG)
    ids = project.import_tasks([{"text": f"review {i}"} for i in range(100_000)])  # polls the import status
    assert len(ids) == 100_000 and len(set(ids)) == 100_000
    assert project.get_params()["task_number"] == 100_000
    last = httpx.get(f"{local_stack}/api/tasks/{ids[-1]}", headers={"Authorization": f"Token {E2E_TOKEN}"})
    assert last.json()["data"] == {"text": "review 99999"}


def test_sdk_export_snapshot_convert_and_download(local_stack):
    """`ls.projects.exports` (the path the SDK takes for Enterprise): create, poll, convert, download —
    the download follows our 303 to a presigned URL on the emulated S3."""
    import csv
    import io
    import json
    import time

    from label_studio_sdk import LabelStudio

    ls = LabelStudio(base_url=local_stack, api_key=E2E_TOKEN)
    project = ls.projects.create(title="snapshots", label_config=CONFIG)
    ls.projects.import_tasks(id=project.id, request=[{"text": "a"}, {"text": "b"}])
    export = ls.projects.exports.create(id=project.id, title="nightly")

    def wait(done):
        deadline = time.monotonic() + 30
        while not done(ls.projects.exports.get(id=project.id, export_pk=export.id)):
            assert time.monotonic() < deadline, "the snapshot job did not finish"
            time.sleep(0.2)

    wait(lambda e: e.status == "completed")
    tasks = json.loads(
        b"".join(ls.projects.exports.download(id=project.id, export_pk=export.id, export_type="JSON"))
    )
    assert [t["data"]["text"] for t in tasks] == ["a", "b"]
    ls.projects.exports.convert(id=project.id, export_pk=export.id, export_type="CSV")
    wait(lambda e: any(f.export_type == "CSV" and f.status == "completed" for f in e.converted_formats or []))
    body = b"".join(ls.projects.exports.download(id=project.id, export_pk=export.id, export_type="CSV"))
    assert [row["text"] for row in csv.DictReader(io.StringIO(body.decode()))] == ["a", "b"]
    ls.projects.delete(id=project.id)
