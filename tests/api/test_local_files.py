"""The files directory of the sqlite store engine through the real app: `/files/` serves its signed URLs
to anyone holding one (and to no one else), and the features that keep files there (offloaded task data,
export snapshots, task media) work on it. The records stay on the emulator here; only the files move."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.settings import get_settings
from functions.store import blobs, local_files
from tests.api.test_exports import run_jobs_inline
from tests.api.test_projects import create_project
from tests.api.test_tasks import CHOICE, import_


@pytest.fixture
def engine() -> str:
    """These tests are about the sqlite engine's files, whichever engine the suite runs on."""
    return "sqlite"


@pytest.fixture
def files_dir(api) -> Path:
    """The sqlite engine's files directory, for the app `api` talks to."""
    return Path(get_settings().data_dir or ".") / "files"


@pytest.fixture
def anonymous(app):
    """A client with no credentials: the signature in the URL is all it has."""
    with TestClient(app) as client:
        yield client


def assert_error(response, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status_code"] == status and body["detail"] and {"id", "version", "exc_info"} <= set(body)


def test_a_signed_url_streams_its_file_to_a_client_without_credentials(files_dir, anonymous):
    data = os.urandom(3 * 1024 * 1024)
    blobs.upload("uploads/1/clip.mp3", io.BytesIO(data), "audio/mpeg")
    assert (files_dir / "uploads" / "1" / "clip.mp3").read_bytes() == data
    url = blobs.presigned_view("uploads/1/clip.mp3")
    assert url.startswith("/files/uploads/1/clip.mp3?expires=")

    response = anonymous.get(url)
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["content-disposition"] == "inline"
    assert response.headers["x-content-type-options"] == "nosniff"
    # A player seeks with ranges.
    part = anonymous.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]


def test_a_download_url_names_the_file_and_active_types_never_render_inline(files_dir, anonymous):
    blobs.put_bytes("exports/1/2/json.json", b"[]", "application/json")
    download = anonymous.get(blobs.presigned_get("exports/1/2/json.json", "project-1.json"))
    assert download.status_code == 200 and download.content == b"[]"
    assert download.headers["content-disposition"] == 'attachment; filename="project-1.json"'

    for name in ("page.html", "image.svg"):
        blobs.put_bytes(f"uploads/1/{name}", b"<script>alert(document.cookie)</script>")
        response = anonymous.get(blobs.presigned_view(f"uploads/1/{name}"))
        assert response.status_code == 200
        assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
        assert response.headers["x-content-type-options"] == "nosniff"


def test_a_bad_or_expired_signature_is_403_and_a_missing_file_404(files_dir, anonymous, api):
    blobs.put_bytes("uploads/1/a.png", b"png")
    blobs.put_bytes("uploads/2/b.png", b"other project's")
    url = blobs.presigned_view("uploads/1/a.png")
    path, query = url.split("?")
    assert_error(anonymous.get(path), 403)
    assert_error(anonymous.get(f"/files/uploads/2/b.png?{query}"), 403)
    assert_error(anonymous.get(url.replace("signature=", "signature=0")), 403)
    assert_error(anonymous.get(f"{url}&download=a.html"), 403)
    assert_error(anonymous.get(blobs.presigned_view("uploads/1/a.png", seconds=-1)), 403)
    # The user's credentials are no signature either.
    assert_error(api.get(path), 403)

    gone = blobs.presigned_view("uploads/1/gone.png")
    assert_error(anonymous.get(gone), 404)
    blobs.delete("uploads/1/a.png")
    assert_error(anonymous.get(url), 404)


@pytest.mark.parametrize("engine", ["dynamodb"])
def test_with_the_dynamodb_engine_there_is_no_files_route(app, anonymous, tmp_path, engine):
    assert get_settings().store_engine == "dynamodb"
    local_files.put_bytes(tmp_path / "files", "uploads/1/a.png", b"png")
    url = local_files.presigned_url(get_settings().jwt_secret, "uploads/1/a.png", 60)
    assert_error(anonymous.get(url), 404)


def test_large_task_data_is_kept_in_the_files_directory(files_dir, api):
    pid = create_project(api)["id"]
    big = "word " * 120_000
    [tid] = import_(api, pid, [{"text": big}])["task_ids"]
    assert json.loads((files_dir / "tasks" / str(tid) / "data.json").read_text()) == {"text": big}
    assert api.get(f"/api/tasks/{tid}").json()["data"]["text"] == big


def test_export_snapshots_are_built_converted_downloaded_and_deleted_on_disk(
    files_dir, api, anonymous, monkeypatch
):
    run_jobs_inline(monkeypatch)
    pid = create_project(api)["id"]
    ids = import_(api, pid, [{"text": "a"}, {"text": "b"}])["task_ids"]
    api.post(f"/api/tasks/{ids[1]}/annotations", json={"result": CHOICE})
    snapshot = api.post(f"/api/projects/{pid}/exports", json={"title": "weekly"}).json()
    assert api.get(f"/api/projects/{pid}/exports/{snapshot['id']}").json()["status"] == "completed"
    converted = api.post(f"/api/projects/{pid}/exports/{snapshot['id']}/convert", json={"export_type": "CSV"})
    assert converted.status_code == 200

    def fetch(export_type: str):
        redirect = api.get(
            f"/api/projects/{pid}/exports/{snapshot['id']}/download",
            params={"exportType": export_type},
            follow_redirects=False,
        )
        assert redirect.status_code == 303 and redirect.headers["location"].startswith("/files/exports/")
        response = anonymous.get(redirect.headers["location"])
        assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
        return response.content

    assert [t["id"] for t in json.loads(fetch("JSON"))] == ids
    assert [r["sentiment"] for r in csv.DictReader(io.StringIO(fetch("CSV").decode()))] == ["", "Positive"]
    assert (files_dir / "exports" / str(pid)).is_dir()
    assert api.delete(f"/api/projects/{pid}/exports/{snapshot['id']}").status_code == 204
    assert not (files_dir / "exports").exists()


def test_task_media_presigns_to_the_files_route(files_dir, api, anonymous):
    pid = create_project(api)["id"]
    blobs.put_bytes(f"uploads/{pid}/cat.txt", b"meow")
    uri = f"s3://{get_settings().files_bucket}/uploads/{pid}/cat.txt"
    [tid] = import_(api, pid, [{"text": uri}])["task_ids"]
    fileuri = base64.urlsafe_b64encode(uri.encode()).decode().rstrip("=")
    redirect = api.get(f"/tasks/{tid}/presign", params={"fileuri": fileuri}, follow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["location"].startswith(f"/files/uploads/{pid}/")
    assert anonymous.get(redirect.headers["location"]).content == b"meow"
    expires = int(redirect.headers["location"].split("expires=")[1].split("&")[0])
    assert time.time() + 3500 < expires <= time.time() + 3600
