"""The manager's and annotator's path through the UI: sign in, create, import, label, skip, see, export."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.web.conftest import screenshot, sign_in

TASKS = [
    # The first task carries a prediction: the label stream must show it pre-filled.
    {"data": {"text": "The support team was slow."},
     "predictions": [{"model_version": "m1", "score": 0.42, "result": [
         {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Negative"]}}]}]},
    {"data": {"text": "Great battery life."}},
    {"data": {"text": "Arrived on time, works as described."}},
    {"data": {"text": "I would not buy it again."}},
    {"data": {"text": "Okay for the price."}},
]


def _choice(page, value: str):
    return page.locator(".lsf-root label", has_text=value).first


def _current_task(page) -> str:
    return page.get_by_test_id("task-heading").get_attribute("data-task")


# The LSF's own accessible names for its top bar buttons.
SUBMIT, SKIP = "submit", "skip-task"


def _submit_and_wait(page, button: str) -> None:
    before = _current_task(page)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_function(
        "before => { const h = document.querySelector('[data-testid=task-heading]');"
        " return (h && h.dataset.task !== before) || document.querySelector('[data-testid=no-more-tasks]'); }", arg=before)


def test_sign_in_create_import_label_skip_and_export(page, tmp_path):
    page.goto("/")
    page.get_by_label("API token").wait_for()
    screenshot(page, "01-sign-in")
    sign_in(page)

    # Create a project from the text classification template, with its live preview.
    page.get_by_label("Project title").fill("Reviews from the UI")
    preview = page.get_by_test_id("config-preview")
    preview.locator(".lsf-root").wait_for()
    for template, shows in [("Named entity recognition", "ORG"), ("Image classification", "Square"),
                            ("Bounding boxes", "Square"), ("Summarisation", "Add")]:
        renders = int(preview.get_attribute("data-renders"))
        page.get_by_label("Template").select_option(label=template)
        expect(preview).to_have_attribute("data-renders", str(renders + 1))
        preview.get_by_text(shows).first.wait_for()
    page.get_by_label("Template").select_option(label="Text classification")
    preview.locator(".lsf-root label", has_text="Positive").wait_for()
    screenshot(page, "02-projects-create")
    page.get_by_role("button", name="Create project").click()
    page.get_by_test_id("task-table").wait_for()
    # The address names the project and, once its tabs are loaded, the tab shown: #/projects/<id>?tab=<id>.
    project_id = int(re.search(r"#/projects/(\d+)", page.url).group(1))

    # Import a JSON file through the dialog, with its progress bar.
    upload = tmp_path / "reviews.json"
    upload.write_text(json.dumps(TASKS))
    page.get_by_role("button", name="Import").click()
    page.get_by_label("Task files").set_input_files(str(upload))
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Imported 5 tasks.").wait_for()
    assert page.locator("dialog progress").evaluate("p => p.value") == 1
    screenshot(page, "03-import-dialog")
    page.get_by_role("button", name="Close").click()
    page.locator("tr[data-task]").nth(4).wait_for()
    assert page.locator("tr[data-task]").count() == 5

    # Label three tasks in the LSF, then skip one.
    page.get_by_role("link", name="Label all tasks").click()
    page.get_by_test_id("task-heading").wait_for()
    page.get_by_role("button", name=SUBMIT, exact=True).wait_for()
    expect(_choice(page, "Negative").locator("input"), "the prediction is pre-filled").to_be_checked()
    screenshot(page, "04-label-stream-prediction")
    labeled = [_current_task(page)]
    _submit_and_wait(page, SUBMIT)  # the prediction's choice, as is
    for _ in range(2):
        labeled.append(_current_task(page))
        _choice(page, "Positive").click()
        expect(_choice(page, "Positive").locator("input")).to_be_checked()
        _submit_and_wait(page, SUBMIT)
    skipped = _current_task(page)
    screenshot(page, "05-label-stream")
    _submit_and_wait(page, SKIP)
    assert _current_task(page) not in [*labeled, skipped]

    # The data manager shows the annotations and the skip.
    page.goto(f"/#/projects/{project_id}")
    page.locator("tr[data-task]").nth(4).wait_for()
    counts = {row.get_attribute("data-task"): (row.locator("[data-col=annotations]").inner_text(),
                                               row.locator("[data-col=skipped]").inner_text())
              for row in page.locator("tr[data-task]").all()}
    assert {t: counts[t] for t in labeled} == {t: ("1", "0") for t in labeled}
    assert counts[skipped] == ("0", "1")
    score_cell = page.locator(f"tr[data-task='{labeled[0]}'] [data-col=score]").inner_text()
    assert score_cell == "0.42"
    screenshot(page, "06-data-manager")

    # Change an answer: the task opens with its annotation, and Update PATCHes it.
    page.locator(f"tr[data-task='{labeled[1]}']").get_by_role("link", name="Open").click()
    expect(_choice(page, "Positive").locator("input")).to_be_checked()
    _choice(page, "Neutral").click()
    page.locator(".lsf-root button", has_text="Update").click()
    page.get_by_text("Updated.").wait_for()
    expect(_choice(page, "Neutral").locator("input")).to_be_checked()
    screenshot(page, "07-label-update")
    page.goto(f"/#/projects/{project_id}")
    page.locator("tr[data-task]").nth(4).wait_for()

    # Filter on prediction score, through the Data Manager query.
    page.get_by_label("Filter column").select_option("predictions_score")
    page.get_by_label("Filter operator").select_option("greater")
    page.get_by_label("Filter value").fill("0.1")
    page.get_by_role("button", name="Add filter").click()
    page.get_by_text("Page 1 of 1 · 1 tasks").wait_for()
    assert page.locator("tr[data-task]").count() == 1

    # The JSON export, as the export dialog downloads it (with the session cookie).
    page.get_by_role("button", name="Export", exact=True).click()
    dialog = page.get_by_test_id("export-dialog")
    expect(dialog.get_by_role("radio", name="JSON", exact=True)).to_be_checked()
    with page.expect_download() as download:
        dialog.get_by_role("button", name="Export", exact=True).click()
    dialog.get_by_role("button", name="Close").click()
    exported = json.loads(download.value.path().read_text())
    by_id = {str(task["id"]): task for task in exported}
    assert set(labeled) <= set(by_id)
    choices = [by_id[t]["annotations"][0]["result"][0]["value"]["choices"] for t in labeled]
    assert choices == [["Negative"], ["Neutral"], ["Positive"]]
    assert all(not by_id[t]["annotations"][0]["was_cancelled"] for t in labeled)

    # Select the task nobody touched and delete it with a Data Manager action (after a confirm).
    # The filter was saved in the tab: a reload keeps it, and removing it shows every task again.
    page.reload()
    page.get_by_text("Page 1 of 1 · 1 tasks").wait_for()
    page.get_by_role("button", name="Remove filter").click()
    page.get_by_text("Page 1 of 1 · 5 tasks").wait_for()
    untouched = next(t for t in counts if t not in [*labeled, skipped] and counts[t] == ("0", "0"))
    page.get_by_label(f"Select task {untouched}").check()
    page.get_by_label("Action").select_option("delete_tasks")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Run").click()
    page.get_by_text("Page 1 of 1 · 4 tasks").wait_for()
    assert page.locator(f"tr[data-task='{untouched}']").count() == 0

    # The settings pages render (screenshots for review).
    for section in ("general", "labeling", "instructions", "annotation", "models", "members", "danger"):
        page.goto(f"/#/projects/{project_id}/settings/{section}")
        page.locator(f".settings-body[data-section={section}] .card").first.wait_for()
        if section == "labeling":
            page.get_by_test_id("config-preview").locator(".lsf-root label", has_text="Positive").wait_for()
        screenshot(page, f"08-settings-{section}")
