"""Media uploaded into a project through the real app: each file one task with its `/data/upload/` URL,
served back only to the project's members, with its own type and nothing a browser would run. On the
sqlite engine the app sends the file; on S3 (moto) it redirects to a presigned URL."""

from __future__ import annotations

import requests

from functions.settings import get_settings
from tests.api.test_exports import run_jobs_inline
from tests.api.test_projects import create_project
from tests.files_bucket import keys_under
from tests.media import jpeg, png

IMAGE_CONFIG = """<View>
  <Image name="picture" value="$photo"/>
  <Choices name="animal" toName="picture"><Choice value="Cat"/><Choice value="Dog"/></Choices>
</View>"""
AUDIO_CONFIG = """<View>
  <Audio name="audio" value="$clip"/>
  <Choices name="kind" toName="audio"><Choice value="Speech"/><Choice value="Music"/></Choices>
</View>"""
TWO_OBJECTS = """<View>
  <Image name="picture" value="$photo"/>
  <Text name="caption" value="$caption"/>
  <Choices name="animal" toName="picture"><Choice value="Cat"/></Choices>
</View>"""
HYPERTEXT_CONFIG = """<View>
  <HyperText name="page" value="$html"/>
  <Choices name="kind" toName="page"><Choice value="News"/></Choices>
</View>"""
SCRIPTED_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4" onload="alert(1)">'
    b"<script>alert(2)</script></svg>"
)


def upload(client, project_id: int, *files: tuple[str, bytes, str], **headers):
    return client.post(
        f"/api/projects/{project_id}/import",
        params={"return_task_ids": "true"},
        files=[("file", f) for f in files],
        headers=headers,
    )


def fetch(client, url: str) -> tuple[int, dict[str, str], bytes]:
    """What a browser gets for a task's media URL: the app's answer, or (S3) the presigned URL's it
    redirects to. Status, headers (lower-case names) and bytes."""
    response = client.get(url, follow_redirects=False)
    if response.status_code != 303:
        return response.status_code, dict(response.headers), response.content
    assert response.headers["cache-control"] == "no-store"
    found = requests.get(response.headers["location"], timeout=10)
    return found.status_code, {k.lower(): v for k, v in found.headers.items()}, found.content


def media_url(client, task_id: int, key: str) -> str:
    return client.get(f"/api/tasks/{task_id}").json()["data"][key]


def test_each_media_file_becomes_a_task_of_its_url_and_is_served_with_its_type(api):
    project = create_project(api, label_config=IMAGE_CONFIG)["id"]
    photo, snapshot = png(8, 6), jpeg(10, 7)
    response = upload(
        api, project, ("my cat (1).png", photo, "image/png"), ("dog.JPG", snapshot, "image/jpeg")
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["task_count"] == 2 and len(body["task_ids"]) == 2
    assert body["found_formats"] == {".png": 1, ".jpg": 1}
    assert body["could_be_tasks_list"] is False
    assert body["data_columns"] == ["$undefined$"]  # Label Studio's, before the key is named
    assert len(body["file_upload_ids"]) == 2

    urls = [media_url(api, task_id, "photo") for task_id in body["task_ids"]]
    # Label Studio's names: `/data/upload/<project>/<8 hex>-<Django's valid name>`.
    assert urls[0].startswith(f"/data/upload/{project}/") and urls[0].endswith("-my_cat_1.png")
    assert urls[1].endswith("-dog.JPG")
    assert len(urls[0].rsplit("/", 1)[1].split("-", 1)[0]) == 8
    assert keys_under(f"uploads/{project}/") == sorted(
        f"uploads/{project}/{u.rsplit('/', 1)[1]}" for u in urls
    )

    for url, content, content_type in zip(urls, (photo, snapshot), ("image/png", "image/jpeg"), strict=True):
        status, headers, served = fetch(api, url)
        assert (status, served) == (200, content)
        assert headers["content-type"] == content_type
        assert "content-disposition" not in headers or "attachment" not in headers["content-disposition"]
    status, headers, _ = fetch(api, urls[0])
    if get_settings().store_engine == "sqlite":  # sent by the app itself: its own headers, ranges
        assert headers["x-content-type-options"] == "nosniff"
        partial = api.get(urls[0], headers={"Range": "bytes=0-7"})
        assert partial.status_code == 206 and partial.content == photo[:8]

    listed = api.get(f"/api/projects/{project}/file-uploads", params={"all": "true"}).json()
    assert [u["id"] for u in listed] == body["file_upload_ids"]
    assert [u["file"] for u in listed] == [u.removeprefix("/data/") for u in urls]
    assert [u["size"] for u in listed] == [len(photo), len(snapshot)]


def test_audio_video_and_pdf_are_served_as_what_they_are(api):
    project = create_project(api, label_config=AUDIO_CONFIG)["id"]
    files = {
        "clip.mp3": ("audio/mpeg", b"ID3\x03\x00" + b"\x00" * 64),
        "clip.wav": ("audio/wav", b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 32),
        "clip.m4a": ("audio/mp4", b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 16),
        "movie.mp4": ("video/mp4", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 16),
        "movie.webm": ("video/webm", b"\x1a\x45\xdf\xa3" + b"\x00" * 16),
        "paper.pdf": ("application/pdf", b"%PDF-1.4\n%%EOF\n"),
    }
    response = upload(
        api, project, *((name, data, "application/octet-stream") for name, (_, data) in files.items())
    )
    assert response.status_code == 201, response.text
    for task_id, (name, (content_type, data)) in zip(response.json()["task_ids"], files.items(), strict=True):
        url = media_url(api, task_id, "clip")
        assert url.endswith(name)
        status, headers, served = fetch(api, url)
        assert (status, headers["content-type"], served) == (200, content_type, data), name


def test_svg_renders_as_an_image_but_is_never_a_page_of_ours(api):
    project = create_project(api, label_config=IMAGE_CONFIG)["id"]
    [task] = upload(api, project, ("logo.svg", SCRIPTED_SVG, "image/svg+xml")).json()["task_ids"]
    status, headers, served = fetch(api, media_url(api, task, "photo"))
    assert (status, served) == (200, SCRIPTED_SVG)
    assert headers["content-type"] == "image/svg+xml"
    # Opened on its own it is downloaded; a browser that showed it anyway would run nothing in it.
    assert headers["content-disposition"].startswith("attachment;")
    if get_settings().store_engine == "sqlite":
        assert "sandbox" in headers["content-security-policy"]
        assert "script-src" not in headers["content-security-policy"]
        assert headers["content-security-policy"].startswith("default-src 'none'")


def test_media_is_served_to_the_projects_members_only(api, make_user):
    project = create_project(api, label_config=IMAGE_CONFIG)["id"]
    other = create_project(api, label_config=IMAGE_CONFIG)["id"]
    [task] = upload(api, project, ("cat.png", png(3, 3), "image/png")).json()["task_ids"]
    url = media_url(api, task, "photo")
    name = url.rsplit("/", 1)[1]
    member_json, member = make_user("member@example.com", "annotator")
    _, outsider = make_user("outsider@example.com", "annotator")
    other_manager_json, other_manager = make_user("manager@example.com", "manager")
    for project_id, user_json in ((project, member_json), (other, other_manager_json)):
        added = api.post(f"/api/projects/{project_id}/members", json={"user": user_json["id"]})
        assert added.status_code in (200, 201), added.text

    assert fetch(member, url)[0] == 200
    assert outsider.get(url, follow_redirects=False).status_code == 404
    assert other_manager.get(url, follow_redirects=False).status_code == 404
    # Naming a project the caller is in does not reach another project's file.
    assert other_manager.get(f"/data/upload/{other}/{name}", follow_redirects=False).status_code == 404
    from fastapi.testclient import TestClient

    with TestClient(api.app) as anonymous:
        assert anonymous.get(url, follow_redirects=False).status_code == 401
    for path in (
        f"/data/upload/{project}/",
        f"/data/upload/{project}",
        f"/data/upload/{project}/%2e%2e%2f{other}%2f{name}",
        f"/data/upload/{project}/..%5c{name}",
        f"/data/upload/x/{name}",
        f"/data/upload/{project}/sub/{name}",
        f"/data/upload/{project}/missing.png",
        f"/data/upload/99999999999999999999/{name}",
    ):
        assert api.get(path, follow_redirects=False).status_code == 404, path


def test_bad_files_are_refused_naming_the_field_and_nothing_is_stored(api, make_user, monkeypatch):
    project = create_project(api, label_config=IMAGE_CONFIG)["id"]
    two_objects = create_project(api, label_config=TWO_OBJECTS)["id"]
    picture = ("cat.png", png(2, 2), "image/png")

    def refused(client, project_id, *files, status=400):
        response = upload(client, project_id, *files)
        assert response.status_code == status, response.text
        return response.json().get("validation_errors", {}).get("file", [])

    assert refused(api, project, picture, ("virus.exe", b"MZ", "application/octet-stream")) == [
        "virus.exe: .exe extension is not supported"
    ]
    assert refused(api, project, ("noextension", b"x", "application/octet-stream")) == [
        "noextension: a name without an extension is not supported"
    ]
    assert refused(api, project, ("empty.png", b"", "image/png")) == [
        "empty.png: The submitted file is empty."
    ]
    assert refused(api, two_objects, picture) == [
        "Failed to parse input file cat.png: Your label config has more than one data key and direct file "
        "upload supports only one data key. To import data with multiple data keys, use a JSON or CSV file."
    ]
    monkeypatch.setenv("LABELSTACK_MAX_UPLOAD_BYTES", "20")
    monkeypatch.setenv("LABELSTACK_MAX_UPLOAD_FILES", "2")
    get_settings.cache_clear()
    try:
        [message] = refused(api, project, picture)
        assert (
            message == f"Maximum total size of all files is 20 bytes, current size is {len(picture[1])} bytes"
        )
        assert refused(api, project, *[("a.txt", b"a", "text/plain")] * 3) == [
            "At most 2 files can be uploaded at once, got 3."
        ]
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()

    # Annotators label; they do not import (403), and a project they are not in does not exist (404).
    annotator_json, annotator = make_user("annotator@example.com", "annotator")
    api.post(f"/api/projects/{project}/members", json={"user": annotator_json["id"]})
    refused(annotator, project, picture, status=403)
    _, stranger = make_user("manager@example.com", "manager")
    refused(stranger, project, picture, status=404)

    assert keys_under("uploads/") == []
    assert api.get(f"/api/projects/{project}").json()["task_number"] == 0
    assert api.get(f"/api/projects/{project}/file-uploads", params={"all": "true"}).json() == []


def test_task_files_keep_their_behaviour_beside_media(api):
    project = create_project(api, label_config=IMAGE_CONFIG)["id"]
    response = upload(
        api,
        project,
        ("list.csv", b"photo,source\nhttps://example.com/a.png,web\n", "text/csv"),
        ("tasks.json", b'[{"photo": "https://example.com/b.png"}]', "application/json"),
        ("cat.png", png(2, 2), "image/png"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    photos = [media_url(api, t, "photo") for t in body["task_ids"]]
    assert photos[:2] == ["https://example.com/a.png", "https://example.com/b.png"]
    assert photos[2].startswith(f"/data/upload/{project}/")
    assert body["found_formats"] == {".csv": 1, ".json": 1, ".png": 1}
    assert body["could_be_tasks_list"] is True
    assert body["data_columns"] == []  # the CSV's and the JSON's "photo", the image's "$undefined$"
    assert len(body["file_upload_ids"]) == 1  # only media is kept as an upload
    assert len(keys_under(f"uploads/{project}/")) == 1


def test_a_hypertext_file_is_one_task_of_its_text(api):
    project = create_project(api, label_config=HYPERTEXT_CONFIG)["id"]
    page = "<html><body><p>Breaking: caf\u00e9 opens</p></body></html>"
    response = upload(api, project, ("page.html", page.encode(), "text/html"))
    assert response.status_code == 201, response.text
    [task] = response.json()["task_ids"]
    assert media_url(api, task, "html") == page
    assert response.json()["file_upload_ids"] == [] and keys_under("uploads/") == []


def test_the_file_upload_list_shows_the_callers_own_uploads(api, make_user):
    project = create_project(api, label_config=IMAGE_CONFIG)["id"]
    manager_json, manager = make_user("manager@example.com", "manager")
    api.post(f"/api/projects/{project}/members", json={"user": manager_json["id"]})
    mine = upload(api, project, ("a.png", png(2, 2), "image/png"), ("b.png", png(3, 3), "image/png")).json()
    theirs = upload(manager, project, ("c.png", png(4, 4), "image/png")).json()
    first, second = mine["file_upload_ids"]

    def listed(client, **params):
        response = client.get(f"/api/projects/{project}/file-uploads", params=params)
        assert response.status_code == 200, response.text
        return [u["id"] for u in response.json()]

    assert listed(api) == []  # Label Studio lists the ids asked for, or all with `all`
    assert listed(api, ids=f"[{first},{second}]") == [first, second]
    assert listed(api, ids=[str(second)]) == [second]
    assert listed(api, ids=f"[{first},{theirs['file_upload_ids'][0]}]") == [first]
    assert listed(api, all="true") == [first, second]
    assert listed(manager, all="true") == theirs["file_upload_ids"]
    bad = api.get(f"/api/projects/{project}/file-uploads", params={"ids": "[1, true]"})
    assert bad.status_code == 400 and "ids" in bad.json()["validation_errors"]

    one = api.get(f"/api/import/file-upload/{first}")
    assert one.status_code == 200 and one.json()["file"].startswith(f"upload/{project}/")
    _, outsider = make_user("outsider@example.com", "manager")
    assert outsider.get(f"/api/import/file-upload/{first}").status_code == 404
    assert api.get("/api/import/file-upload/999999").status_code == 404


def test_an_idempotent_retry_stores_the_media_once(api):
    project = create_project(api, label_config=IMAGE_CONFIG)["id"]
    picture = ("cat.png", png(5, 5), "image/png")
    first = upload(api, project, picture, **{"Idempotency-Key": "media-1"})
    again = upload(api, project, picture, **{"Idempotency-Key": "media-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert len(keys_under(f"uploads/{project}/")) == 1
    changed = upload(api, project, ("cat.png", png(6, 6), "image/png"), **{"Idempotency-Key": "media-1"})
    assert changed.status_code == 400 and "Idempotency-Key" in changed.json()["validation_errors"]


def test_deleting_the_project_deletes_its_uploads(api, monkeypatch):
    run_jobs_inline(monkeypatch)
    project = create_project(api, label_config=IMAGE_CONFIG)["id"]
    kept = create_project(api, label_config=IMAGE_CONFIG)["id"]
    upload(api, project, ("a.png", png(2, 2), "image/png"))
    [task] = upload(api, kept, ("b.png", png(2, 2), "image/png")).json()["task_ids"]
    assert api.delete(f"/api/projects/{project}").status_code == 204
    assert keys_under(f"uploads/{project}/") == []
    assert len(keys_under(f"uploads/{kept}/")) == 1
    assert fetch(api, media_url(api, task, "photo"))[0] == 200
