"""Images uploaded through the import dialog: a PNG and a JPEG become two tasks, show as thumbnails in the
Data Manager and render in the label stream, all from `/data/upload/...` on our own origin (the session
cookie is the credential; the page's Content-Security-Policy allows 'self')."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.media import jpeg, png, wav
from tests.web.conftest import END_OF_QUEUE, screenshot, sign_in

CONFIG = """<View>
  <Image name="image" value="$image"/>
  <Choices name="animal" toName="image" choice="single" showInline="true">
    <Choice value="Cat"/><Choice value="Dog"/>
  </Choices>
</View>"""
# Not the thumbnails' 96x64 box, so a thumbnail's natural size is the file's own.
SIZES = {"orange cat.png": (120, 80), "blue dog.jpg": (90, 140)}


def _loaded_size(image) -> list[int]:
    image.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    return image.evaluate("img => [img.naturalWidth, img.naturalHeight]")


def test_uploaded_images_show_as_thumbnails_and_in_the_label_stream(page, admin_http, expected, tmp_path):
    expected.response(*END_OF_QUEUE)  # both tasks labeled, the stream ends
    created = admin_http.post("/api/projects", json={"title": "Pets", "label_config": CONFIG})
    assert created.status_code == 201, created.text
    project_id = created.json()["id"]
    paths = []
    for (name, (width, height)), make in zip(SIZES.items(), (png, jpeg), strict=True):
        path = tmp_path / name
        path.write_bytes(make(width, height))
        paths.append(str(path))
    # The images as the browser got them: from our origin (sqlite engine), or through a redirect to a
    # presigned URL of the files bucket (the emulator engine, whose origin the page's policy names).
    media: list[tuple[str, str | None]] = []
    page.on(
        "response",
        lambda r: (
            r.status == 200
            and (f"/data/upload/{project_id}/" in r.url or f"/uploads/{project_id}/" in r.url)
            and media.append((r.url.split("?")[0], r.headers.get("content-type")))
        ),
    )

    sign_in(page)
    page.goto(f"/#/projects/{project_id}")
    page.get_by_test_id("task-table").wait_for()
    page.get_by_role("button", name="Import").click()
    dialog = page.locator("dialog.import-dialog")
    expect(dialog).to_contain_text("with its URL in $image")
    page.get_by_label("Task files and media").set_input_files(paths)
    expect(page.get_by_test_id("chosen-files").locator("li")).to_have_count(2)
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Imported 2 tasks, 2 media file(s) stored.").wait_for()
    assert dialog.locator("progress").evaluate("p => p.value") == 1
    screenshot(page, "30-media-import-dialog")
    page.get_by_role("button", name="Close").click()

    # The Data Manager: one lazy, fixed-size thumbnail per task, each the uploaded image itself.
    thumbnails = page.get_by_test_id("thumbnail")
    expect(thumbnails).to_have_count(2)
    for index, (width, height) in enumerate(SIZES.values()):
        thumbnail = thumbnails.nth(index)
        assert thumbnail.get_attribute("loading") == "lazy"
        assert _loaded_size(thumbnail) == [width, height]
        assert thumbnail.bounding_box()["width"] == 96 and thumbnail.bounding_box()["height"] == 64
    tasks = admin_http.get("/api/tasks", params={"project": project_id, "fields": "all"}).json()["tasks"]
    urls = [task["data"]["image"] for task in tasks]
    assert all(url.startswith(f"/data/upload/{project_id}/") for url in urls), urls
    assert [thumbnails.nth(i).get_attribute("src") for i in range(2)] == urls
    screenshot(page, "31-media-thumbnails")

    # The label stream renders each image in the Label Studio Frontend.
    page.get_by_role("link", name="Label all tasks").click()
    for (width, height), answer in zip(SIZES.values(), ("Cat", "Dog"), strict=True):
        image = page.locator(".lsf-root img").first
        expect(image).to_be_visible()
        assert _loaded_size(image) == [width, height]
        page.locator(".lsf-root label", has_text=answer).first.click()
        screenshot(page, f"32-media-label-{answer.lower()}")
        page.get_by_role("button", name="submit", exact=True).click()
        if answer == "Cat":
            expect(page.locator(".lsf-root img").first).not_to_have_attribute("src", urls[0])
    page.get_by_test_id("no-more-tasks").wait_for()
    answers = []
    for task in admin_http.get("/api/tasks", params={"project": project_id, "fields": "all"}).json()["tasks"]:
        [annotation] = task["annotations"]
        answers.append(annotation["result"][0]["value"]["choices"])
    assert answers == [["Cat"], ["Dog"]]

    types = {url.rsplit(".", 1)[1]: content_type for url, content_type in media}
    assert types == {"png": "image/png", "jpg": "image/jpeg"}, media


TWO_KEYS = """<View>
  <Image name="image" value="$image"/>
  <Text name="caption" value="$caption"/>
  <Choices name="animal" toName="image"><Choice value="Cat"/></Choices>
</View>"""


def test_the_import_dialog_says_what_is_wrong_with_a_file(page, admin_http, expected, tmp_path):
    created = admin_http.post("/api/projects", json={"title": "Captions", "label_config": TWO_KEYS})
    assert created.status_code == 201, created.text
    project_id = created.json()["id"]
    # The API refuses media for a config with two data keys: the one failed response, on purpose.
    expected.response(400, rf"/api/projects/{project_id}/import$")
    imports: list[str] = []
    page.on(
        "request", lambda r: r.url.endswith(f"/api/projects/{project_id}/import") and imports.append(r.url)
    )
    unsupported, picture = tmp_path / "notes.exe", tmp_path / "cat.png"
    unsupported.write_bytes(b"MZ")
    picture.write_bytes(png(20, 20))

    sign_in(page)
    page.goto(f"/#/projects/{project_id}")
    page.get_by_role("button", name="Import").click()
    dialog = page.locator("dialog.import-dialog")
    expect(dialog).to_contain_text("Media files need a labeling config with one data key")
    files = page.get_by_label("Task files and media")
    files.set_input_files(str(unsupported))
    expect(page.get_by_test_id("chosen-files")).to_contain_text("not supported")
    page.get_by_role("button", name="Upload").click()
    expect(dialog.get_by_role("status")).to_have_text("notes.exe: not a supported file type.")
    assert imports == []  # refused before anything is sent

    files.set_input_files(str(picture))
    page.get_by_role("button", name="Upload").click()
    expect(dialog.get_by_role("status")).to_contain_text(
        "file: Failed to parse input file cat.png: Your label config has more than one data key"
    )
    assert imports and dialog.locator("progress").evaluate("p => p.value") == 0
    screenshot(page, "33-media-import-refused")
    assert admin_http.get(f"/api/projects/{project_id}").json()["task_number"] == 0


AUDIO = """<View>
  <Audio name="audio" value="$clip"/>
  <Choices name="kind" toName="audio" choice="single" showInline="true">
    <Choice value="Speech"/><Choice value="Tone"/>
  </Choices>
</View>"""


def test_uploaded_audio_loads_its_waveform_in_the_label_stream(page, admin_http, expected):
    expected.response(*END_OF_QUEUE)
    created = admin_http.post("/api/projects", json={"title": "Sounds", "label_config": AUDIO})
    assert created.status_code == 201, created.text
    project_id = created.json()["id"]
    clip = wav(1.0)
    imported = admin_http.post(
        f"/api/projects/{project_id}/import", files=[("file", ("beep.wav", clip, "audio/wav"))]
    )
    assert imported.status_code == 201, imported.text
    # The Label Studio Frontend fetches the file (for its waveform: connect-src) and plays it through an
    # audio element (media-src), from our origin or, on the emulator engine, the presigned URL.
    loaded: list[tuple[str, int, str | None]] = []
    page.on(
        "response",
        lambda r: (
            r.status in (200, 206)
            and (f"/data/upload/{project_id}/" in r.url or f"/uploads/{project_id}/" in r.url)
            and loaded.append((r.request.resource_type, r.status, r.headers.get("content-type")))
        ),
    )

    sign_in(page)
    page.goto(f"/#/projects/{project_id}/label")
    page.get_by_role("button", name="Play").wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.lsf-root canvas')].some(c => c.width > 0 && c.height > 0)"
    )
    assert {kind for kind, _, _ in loaded} >= {"fetch"}, loaded
    assert all(content_type == "audio/wav" for _, _, content_type in loaded), loaded
    page.locator(".lsf-root label", has_text="Tone").first.click()
    screenshot(page, "34-media-audio")
    page.get_by_role("button", name="submit", exact=True).click()
    page.get_by_test_id("no-more-tasks").wait_for()
