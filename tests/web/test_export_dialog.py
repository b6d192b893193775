"""The Data Manager's export dialog: the project's formats, those it cannot be exported in greyed out with
why, and a CSV download with the project's annotations."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import expect

from tests.web.conftest import create_project, screenshot, sign_in

CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="sentiment" toName="text">'
    '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>'
)


def test_export_dialog_offers_what_the_project_can_produce_and_downloads_csv(page, admin_http):
    project_id, task_ids = create_project(admin_http, "Export", CONFIG, [{"text": "good"}, {"text": "bad"}])
    for task_id, answer in zip(task_ids, ("Positive", "Negative"), strict=True):
        result = [
            {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [answer]}}
        ]
        assert (
            admin_http.post(f"/api/tasks/{task_id}/annotations", json={"result": result}).status_code == 201
        )
    formats = admin_http.get(f"/api/projects/{project_id}/export/formats").json()

    sign_in(page)
    page.goto(f"/#/projects/{project_id}")
    page.locator("tr[data-task]").nth(1).wait_for()
    page.get_by_role("button", name="Export", exact=True).click()
    dialog = page.get_by_test_id("export-dialog")
    expect(dialog.locator(".export-format")).to_have_count(len(formats))
    for info in formats:
        radio = dialog.get_by_role("radio", name=info["title"], exact=True)
        if info.get("disabled"):
            expect(radio).to_be_disabled()
            expect(dialog.locator(f"[data-format={info['name']}] .export-unavailable")).to_contain_text(
                info["disabled_reason"]
            )
        else:
            expect(radio).to_be_enabled()
    # A text classification has no NER spans, nor media bundles here.
    expect(dialog.get_by_role("radio", name="CONLL2003", exact=True)).to_be_disabled()
    expect(dialog.locator("[data-format=COCO_WITH_IMAGES]")).to_contain_text("media files")
    dialog.get_by_role("radio", name="CSV", exact=True).check()
    screenshot(page, "37-export-dialog")

    with page.expect_download() as download:
        dialog.get_by_role("button", name="Export", exact=True).click()
    assert download.value.suggested_filename == f"project-{project_id}-export.csv"
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert sorted((r["text"], r["sentiment"]) for r in rows) == [("bad", "Negative"), ("good", "Positive")]
