"""Uploaded media through label-studio-sdk, unmodified, against `labelstack dev`: the legacy client uploads
an image file as Label Studio's import takes it, the current client lists and downloads the upload, and an
ML backend's helper (`get_local_path`) fetches the task's media with a token."""

from __future__ import annotations

from tests.e2e.conftest import E2E_TOKEN
from tests.media import png

CONFIG = """<View>
  <Image name="image" value="$image"/>
  <Choices name="animal" toName="image"><Choice value="Cat"/><Choice value="Dog"/></Choices>
</View>"""


def test_an_image_uploaded_by_the_legacy_client_is_listed_and_downloaded_by_the_new_one(
    local_stack, tmp_path, monkeypatch
):
    from label_studio_sdk import Client, LabelStudio
    from label_studio_sdk._extensions.label_studio_tools.core.utils.io import get_local_path

    picture = png(12, 9)
    path = tmp_path / "tabby cat.png"
    path.write_bytes(picture)
    project = Client(url=local_stack, api_key=E2E_TOKEN).start_project(title="sdk media", label_config=CONFIG)
    [task_id] = project.import_tasks(str(path))  # a file path: the legacy client posts it as multipart
    url = project.get_task(task_id)["data"]["image"]
    assert url.startswith(f"/data/upload/{project.id}/") and url.endswith("-tabby_cat.png")

    ls = LabelStudio(base_url=local_stack, api_key=E2E_TOKEN)
    [upload] = ls.files.list(id=project.id, all_=True)
    assert upload.file == url.removeprefix("/data/") and upload.size == len(picture)
    assert ls.files.get(id=upload.id).file == upload.file
    downloaded = ls.files.with_raw_response.download(filename=upload.file.removeprefix("upload/"))
    assert downloaded.response.content == picture
    assert downloaded.response.headers["content-type"] == "image/png"

    # What an ML backend does with the task's image: the SDK asks Label Studio's storage proxy first and
    # falls back to /data/upload/ on its 404, sending the token to its own host only.
    monkeypatch.setenv("LABEL_STUDIO_URL", local_stack)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", E2E_TOKEN)
    (tmp_path / "cache").mkdir()
    local = get_local_path(url, cache_dir=str(tmp_path / "cache"), task_id=task_id)
    with open(local, "rb") as file:
        assert file.read() == picture
