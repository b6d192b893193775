"""Settings, Cloud Storage, end to end against the local AWS emulator: a source storage added through the
form (connection checked, credentials never shown back), synced with its live status and counts, edited
and deleted; a target storage that writes the project's annotation into its bucket."""

from __future__ import annotations

import json

import boto3
from playwright.sync_api import expect

from tests.web.conftest import create_project, screenshot, sign_in

CONFIG = """<View>
  <Image name="image" value="$image"/>
  <Choices name="animal" toName="image"><Choice value="Cat"/><Choice value="Dog"/></Choices>
</View>"""
SECRET = "emulator-secret-never-shown-0123"
KEY_ID = "AKIALOCALEMULATOR01"


def _s3(emulator: str):
    # The emulator takes any keys.
    return boto3.client(
        "s3",
        endpoint_url=emulator,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def test_source_and_target_storages_end_to_end(page, admin_http, local_stack_banner, expected):
    # Provoked on purpose: "Check Connection" with a bucket that does not exist.
    expected.response(400, r"/api/storages/s3/validate$")
    s3 = _s3(local_stack_banner["aws emulator"])
    s3.create_bucket(Bucket="ui-source")
    s3.create_bucket(Bucket="ui-target")
    for key in ("animals/one.png", "animals/two.png", "animals/notes.txt", "elsewhere/three.png"):
        s3.put_object(Bucket="ui-source", Key=key, Body=b"not really a png")
    project_id, [task_id] = create_project(
        admin_http, "Storage", CONFIG, [{"image": "https://example.com/x.png"}]
    )
    choice = [{"from_name": "animal", "to_name": "image", "type": "choices", "value": {"choices": ["Cat"]}}]
    annotation = admin_http.post(f"/api/tasks/{task_id}/annotations", json={"result": choice}).json()

    sign_in(page)
    page.goto(f"/#/projects/{project_id}/settings/storage")
    source = page.locator(".storage-column[data-kind=import]")
    target = page.locator(".storage-column[data-kind=export]")
    expect(source.get_by_text("None yet.")).to_be_visible()
    screenshot(page, "30-storage-empty")

    # A source storage: the form checks the bucket first, and says so when it cannot be reached.
    source.get_by_role("button", name="Add Source Storage").click()
    form = page.get_by_test_id("storage-form")
    form.get_by_label("Storage Title").fill("Animals")
    form.get_by_label("Bucket Name").fill("no-such-bucket")
    form.get_by_role("button", name="Check Connection").click()
    expect(form.locator(".status.error")).to_contain_text("bucket")
    form.get_by_label("Bucket Name").fill("ui-source")
    form.get_by_label("Bucket Prefix").fill("animals/")
    form.get_by_label("File Filter Regex").fill(r".*\.png$")
    form.get_by_label("Access Key ID").fill(KEY_ID)
    form.get_by_label("Secret Access Key").fill(SECRET)
    form.get_by_label("Treat every bucket object as a source file").check()
    form.get_by_role("button", name="Check Connection").click()
    expect(form.get_by_text("Connection successful.")).to_be_visible()
    screenshot(page, "31-storage-form")
    form.get_by_role("button", name="Add Storage").click()
    card = source.locator(".storage-card")
    expect(card.get_by_test_id("storage-status")).to_have_text("Initialized")
    expect(card).to_contain_text("Not synced yet")

    # Sync: the card follows the background sync to its end, with the counts.
    card.get_by_role("button", name="Sync Storage").click()
    expect(card.get_by_test_id("storage-status")).to_have_text("Completed", timeout=30_000)
    expect(card.get_by_test_id("storage-count")).to_have_text("2 (2 new)")
    expect(card.get_by_role("button", name="Sync Storage")).to_be_enabled()
    [storage] = admin_http.get("/api/storages/s3", params={"project": project_id}).json()
    assert storage["regex_filter"] == r".*\.png$" and storage["use_blob_urls"] is True
    assert storage["aws_secret_access_key_is_set"] is True and SECRET not in json.dumps(storage)
    data = [
        t["data"]["image"]
        for t in admin_http.get("/api/tasks", params={"project": project_id}).json()["tasks"]
    ]
    assert sorted(data[1:]) == ["s3://ui-source/animals/one.png", "s3://ui-source/animals/two.png"]

    # A second sync of the unchanged bucket adds nothing: 2 tasks, none new.
    card.get_by_role("button", name="Sync Storage").click()
    expect(card.get_by_test_id("storage-count")).to_have_text("2 (0 new)", timeout=30_000)
    screenshot(page, "32-storage-synced")

    # Edit: the credentials are not shown back; left empty they are kept.
    card.get_by_role("button", name="Edit").click()
    form = page.get_by_test_id("storage-form")
    for name in ("Access Key ID", "Secret Access Key"):
        expect(form.get_by_label(name)).to_have_value("")
        expect(form.get_by_label(name)).to_have_attribute("placeholder", "Saved — leave empty to keep it")
    assert SECRET not in page.content() and KEY_ID not in page.content()
    expect(form.get_by_label("Bucket Prefix")).to_have_value("animals/")
    form.get_by_label("Storage Title").fill("Animals (renamed)")
    form.get_by_role("button", name="Check Connection").click()  # over the saved keys
    expect(form.get_by_text("Connection successful.")).to_be_visible()
    form.get_by_role("button", name="Save").click()
    expect(card.locator(".storage-card-head")).to_have_text("Animals (renamed)")
    saved = admin_http.get(f"/api/storages/s3/{storage['id']}").json()
    assert saved["aws_access_key_id"] == KEY_ID and saved["aws_secret_access_key_is_set"] is True

    # A target storage: created, it syncs once by itself and writes the annotation there already.
    target.get_by_role("button", name="Add Target Storage").click()
    form = page.get_by_test_id("storage-form")
    expect(form.get_by_label("File Filter Regex")).to_have_count(0)
    form.get_by_label("Bucket Name").fill("ui-target")
    form.get_by_label("Bucket Prefix").fill("out")
    form.get_by_role("button", name="Add Storage").click()
    target_card = target.locator(".storage-card")
    expect(target_card.get_by_test_id("storage-status")).to_have_text("Completed", timeout=30_000)
    expect(target_card.get_by_test_id("storage-count")).to_have_text("1 (1 total)")
    written = json.loads(s3.get_object(Bucket="ui-target", Key=f"out/{annotation['id']}")["Body"].read())
    assert written["id"] == annotation["id"] and written["task"]["id"] == task_id
    screenshot(page, "33-storage-source-and-target")

    # Delete the source storage: its tasks stay.
    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="Delete").click()
    expect(source.get_by_text("None yet.")).to_be_visible()
    assert admin_http.get("/api/storages/s3", params={"project": project_id}).json() == []
    assert admin_http.get(f"/api/projects/{project_id}").json()["task_number"] == 3
