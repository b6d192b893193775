"""Presigning a task's media through the real app, S3 through moto: only the task's own project's media
is presigned, whatever a manager writes into the task's data."""

from __future__ import annotations

import base64

import requests

from functions.settings import get_settings
from tests import files_bucket
from tests.api.test_exports import run_jobs_inline
from tests.api.test_projects import create_project
from tests.api.test_storages import bucket, put, source
from tests.api.test_tasks import CHOICE, import_
from tests.files_bucket import keys_under


def fileuri(uri: str) -> str:
    return base64.urlsafe_b64encode(uri.encode()).decode().rstrip("=")


def presign(client_, task_id: int, uri: str):
    return client_.get(f"/tasks/{task_id}/presign", params={"fileuri": fileuri(uri)}, follow_redirects=False)


def test_a_manager_cannot_presign_another_projects_export_or_internal_files(api, make_user, monkeypatch):
    run_jobs_inline(monkeypatch)
    files = get_settings().files_bucket
    # Project B (not the manager's): an export snapshot, a task large enough to be offloaded to S3.
    other = create_project(api, title="B")["id"]
    [secret_task] = import_(api, other, [{"data": {"text": "secret " * 50_000}}])["task_ids"]
    api.post(f"/api/tasks/{secret_task}/annotations", json={"result": CHOICE})
    assert api.post(f"/api/projects/{other}/exports", json={"title": "weekly"}).status_code == 201
    [export_key] = [k for k in keys_under(f"exports/{other}/") if k.endswith(".json")]
    [offloaded_key] = keys_under(f"tasks/{secret_task}/")
    files_bucket.put(f"uploads/{other}/photo.jpg", b"B's photo")

    # The attacker manages project A only, and writes B's objects into a task of A.
    _, manager = make_user("manager@example.com", "manager")
    mine = create_project(manager, title="A")["id"]
    files_bucket.put(f"uploads/{mine}/cat.txt", b"meow")
    stolen = [
        f"s3://{files}/{export_key}",
        f"s3://{files}/{offloaded_key}",
        f"s3://{files}/uploads/{other}/photo.jpg",
        f"s3://{files}/imports/1/tasks.json",
        f"s3://{files}/training/1/1/tasks.json",
        f"s3://{files}/uploads/{mine}/../../{export_key}",
        f"s3://{files}/uploads/{mine}/",
    ]
    own = f"s3://{files}/uploads/{mine}/cat.txt"
    [task] = import_(manager, mine, [{"data": {"text": own, "refs": stolen}}])["task_ids"]

    for uri in stolen:
        response = presign(manager, task, uri)
        assert response.status_code == 403, (uri, response.status_code, response.headers.get("location"))
    # The browser's copy of the task links only the project's own media to the presign path.
    served = manager.get(f"/api/tasks/{task}").json()["data"]
    assert served["refs"] == stolen and served["text"].startswith(f"/tasks/{task}/presign/?fileuri=")

    allowed = presign(manager, task, own)
    assert allowed.status_code == 303, allowed.text
    assert files_bucket.fetch(manager, allowed.headers["location"]) == b"meow"


def test_storage_media_is_presigned_only_under_the_projects_own_storage_prefix(api, make_user):
    shared = bucket("shared-media")
    put(shared, "a/1.txt", "A's")
    put(shared, "b/1.txt", "B's")
    put(bucket("b-only"), "x.txt", "B's")
    _, manager = make_user("manager@example.com", "manager")
    mine = create_project(manager, title="A")["id"]
    other = create_project(api, title="B")["id"]
    source(manager, mine, shared, prefix="a/", use_blob_urls=True)
    source(api, other, shared, prefix="b/", use_blob_urls=True)
    source(api, other, "b-only", use_blob_urls=True)
    refs = ["s3://shared-media/a/1.txt", "s3://shared-media/b/1.txt", "s3://b-only/x.txt"]
    [task] = import_(manager, mine, [{"data": {"text": "t", "refs": refs}}])["task_ids"]

    own = presign(manager, task, refs[0])
    assert own.status_code == 303 and requests.get(own.headers["location"], timeout=10).content == b"A's"
    assert presign(manager, task, refs[1]).status_code == 403  # B's prefix of the same bucket
    assert presign(manager, task, refs[2]).status_code == 403  # B's bucket
