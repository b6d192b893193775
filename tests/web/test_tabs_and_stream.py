"""Data Manager tabs and the label stream in the browser: a tab saved with its filter, sort and hidden
column comes back after a reload and is labeled as displayed; the stream's Back, Forward, progress and
shortcuts; a draft that survives a reload and becomes the annotation."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web.conftest import END_OF_QUEUE, create_project, screenshot, sign_in

CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text" choice="single">'
    '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>'
)
SUBMIT = "submit"


def _choice(page, value: str):
    return page.locator(".lsf-root label", has_text=value).first


def _task_shown(page) -> int:
    heading = page.get_by_test_id("task-heading")
    expect(heading).to_have_attribute("data-task", re.compile(r"\d+"))
    return int(heading.get_attribute("data-task"))


def _next_task(page, before: int | None) -> int:
    """Wait until the page shows a task other than `before`; its id."""
    expect(page.get_by_test_id("task-heading")).not_to_have_attribute("data-task", str(before))
    return _task_shown(page)


def _submit(page, choice: str) -> None:
    _choice(page, choice).click()
    expect(_choice(page, choice).locator("input")).to_be_checked()
    page.get_by_role("button", name=SUBMIT, exact=True).click()


def _saved(page):
    """Wait for the tab's data to be stored (the PATCH the page sends after each change)."""
    return page.expect_response(lambda r: re.search(r"/api/dm/views/\d+$", r.url) and r.request.method == "PATCH")


def test_a_saved_tab_comes_back_after_a_reload_and_is_labeled_as_displayed(page, admin_http, expected):
    project_id, ids = create_project(
        admin_http, "Tabs", CONFIG, [{"text": f"Review number {i}"} for i in range(6)]
    )
    sign_in(page)
    page.goto(f"/#/projects/{project_id}")
    page.locator("tr[data-task]").nth(5).wait_for()
    expect(page.get_by_role("tab", name="Default")).to_have_attribute("aria-selected", "true")

    # A new tab, renamed in place.
    page.get_by_role("button", name="Add tab").click()
    expect(page.get_by_role("tab", name="Tab 2")).to_have_attribute("aria-selected", "true")
    page.get_by_role("button", name="Rename tab").click()
    with _saved(page):
        page.get_by_label("Tab title").fill("First four, newest first")
        page.get_by_label("Tab title").press("Enter")
    expect(page.get_by_role("tab", name="First four, newest first")).to_be_visible()

    # Its filter (ID below the fifth task's), its sort (newest first), a hidden column: each one saved.
    page.get_by_label("Filter column").select_option("id")
    page.get_by_label("Filter operator").select_option("less")
    page.get_by_label("Filter value").fill(str(ids[4]))
    with _saved(page):
        page.get_by_role("button", name="Add filter").click()
    page.get_by_text("Page 1 of 1 · 4 tasks").wait_for()
    with _saved(page):
        page.get_by_label("Order by").select_option("-tasks:id")
    page.get_by_text("Columns", exact=True).click()
    with _saved(page):
        page.get_by_label("Show column Skipped").uncheck()
    page.get_by_text("Columns", exact=True).click()

    # A reload opens the same tab, with all of it.
    page.reload()
    expect(page.get_by_role("tab", name="First four, newest first")).to_have_attribute("aria-selected", "true")
    page.get_by_text("Page 1 of 1 · 4 tasks").wait_for()
    assert [int(t) for t in page.locator("tr[data-task]").evaluate_all("rows => rows.map(r => r.dataset.task)")] == [
        ids[3],
        ids[2],
        ids[1],
        ids[0],
    ]
    expect(page.get_by_label("Order by")).to_have_value("-tasks:id")
    expect(page.locator(".chip", has_text="id less")).to_be_visible()
    expect(page.locator("table.tasks th", has_text="Skipped")).to_have_count(0)
    expect(page.locator("table.tasks th", has_text="Annotations")).to_have_count(1)
    # The other tab kept its own state: every task, in id order.
    page.get_by_role("tab", name="Default").click()
    page.get_by_text("Page 1 of 1 · 6 tasks").wait_for()
    expect(page.get_by_role("link", name="Label tasks as displayed")).to_have_count(0)
    page.get_by_role("tab", name="First four, newest first").click()
    page.get_by_text("Page 1 of 1 · 4 tasks").wait_for()
    screenshot(page, "23-dm-tab-restored")

    # Label tasks as displayed: the stream hands out the tab's tasks, in its order.
    expected.response(*[404, r"/api/dm/actions\?"])  # the tab's tasks run out at the end
    page.get_by_role("link", name="Label tasks as displayed").click()
    expect(page.get_by_test_id("stream-tab")).to_have_text("Tab: First four, newest first")
    expect(page.get_by_test_id("progress-text")).to_have_text("0 of 4 done")
    labeled = [_task_shown(page)]
    screenshot(page, "24-label-as-displayed")
    for _ in range(3):
        _submit(page, "Positive")
        labeled.append(_next_task(page, labeled[-1]))
    assert labeled == [ids[3], ids[2], ids[1], ids[0]]
    expect(page.get_by_test_id("progress-text")).to_have_text("3 of 4 done")
    _submit(page, "Negative")
    page.get_by_test_id("no-more-tasks").wait_for()
    expect(page.get_by_test_id("progress-text")).to_have_text("4 of 4 done")
    # The tasks outside the tab were not handed out.
    for task_id in ids[4:]:
        assert admin_http.get(f"/api/tasks/{task_id}").json()["total_annotations"] == 0


def test_back_forward_progress_and_shortcuts_in_the_stream(page, admin_http, expected):
    project_id, ids = create_project(admin_http, "Stream", CONFIG, [{"text": f"Item {i}"} for i in range(3)])
    sign_in(page)
    page.goto(f"/#/projects/{project_id}/label")
    first = _task_shown(page)
    assert first == ids[0]
    expect(page.get_by_test_id("progress-text")).to_have_text("0 of 3 done")
    expect(page.get_by_role("button", name="Back")).to_be_disabled()
    _submit(page, "Positive")
    second = _next_task(page, first)
    expect(page.get_by_test_id("progress-text")).to_have_text("1 of 3 done")
    expect(page.get_by_role("button", name="Forward")).to_be_disabled()  # the newest task of the stream

    # Back: the task labeled before, with its annotation, to Update.
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_test_id("task-heading")).to_have_attribute("data-task", str(first))
    expect(_choice(page, "Positive").locator("input")).to_be_checked()
    expect(page.locator(".lsf-root button[aria-label=submit]")).to_have_text("Update")
    screenshot(page, "25-stream-back")
    page.get_by_role("button", name="Forward").click()
    expect(page.get_by_test_id("task-heading")).to_have_attribute("data-task", str(second))

    # The keyboard: Alt + ← goes back; the change made there is an Update, and the stream goes on.
    page.locator("body").press("Alt+ArrowLeft")
    expect(page.get_by_test_id("task-heading")).to_have_attribute("data-task", str(first))
    _choice(page, "Negative").click()
    page.locator(".lsf-root button", has_text="Update").click()
    page.get_by_text("Updated.").wait_for()
    expect(page.get_by_test_id("task-heading")).to_have_attribute("data-task", str(second))
    expect(page.get_by_test_id("progress-text")).to_have_text("1 of 3 done")  # no new task done
    annotations = admin_http.get(f"/api/tasks/{first}/annotations").json()
    assert [a["result"][0]["value"]["choices"] for a in annotations] == [["Negative"]]

    # "?" opens the list of shortcuts, and closes it.
    panel = page.get_by_test_id("shortcuts")
    expect(panel).to_be_hidden()
    page.locator("body").press("?")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Alt + ←")
    expect(panel).to_contain_text("Ctrl + Enter")
    screenshot(page, "26-stream-shortcuts")
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(panel).to_be_hidden()

    # The history is the server's: after a reload, Back still reaches the first task.
    page.reload()
    expect(page.get_by_test_id("task-heading")).to_have_attribute("data-task", str(second))
    expect(page.get_by_test_id("progress-text")).to_have_text("1 of 3 done")
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_test_id("task-heading")).to_have_attribute("data-task", str(first))
    expect(_choice(page, "Negative").locator("input")).to_be_checked()

    # To the end of the stream, and back from "All done".
    expected.response(*END_OF_QUEUE)
    page.get_by_role("button", name="Forward").click()
    expect(page.get_by_test_id("task-heading")).to_have_attribute("data-task", str(second))
    _submit(page, "Positive")
    third = _next_task(page, second)
    _submit(page, "Positive")
    page.get_by_test_id("no-more-tasks").wait_for()
    expect(page.get_by_test_id("progress-text")).to_have_text("3 of 3 done")
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_test_id("task-heading")).to_have_attribute("data-task", str(third))


def test_a_draft_survives_a_reload_and_becomes_the_annotation(page, admin_http):
    project_id, ids = create_project(admin_http, "Drafts", CONFIG, [{"text": "Half done"}, {"text": "Later"}])
    sign_in(page)
    page.goto(f"/#/projects/{project_id}/label")
    task = _task_shown(page)
    assert task == ids[0]
    # The Label Studio Frontend saves a draft a few seconds after a change.
    with page.expect_response(
        lambda r: r.url.endswith(f"/api/tasks/{task}/drafts") and r.request.method == "POST", timeout=20_000
    ) as created:
        _choice(page, "Negative").click()
    assert created.value.status == 201
    expect(page.get_by_test_id("draft-status")).to_contain_text("Draft saved")
    drafts = admin_http.get(f"/api/tasks/{task}/drafts").json()
    assert [d["result"][0]["value"]["choices"] for d in drafts] == [["Negative"]]

    # A reload: the same task (still held), opened on the draft.
    page.reload()
    expect(page.get_by_test_id("task-heading")).to_have_attribute("data-task", str(task))
    expect(page.get_by_test_id("draft-status")).to_have_text("Draft restored")
    expect(_choice(page, "Negative").locator("input")).to_be_checked()
    screenshot(page, "27-draft-restored")

    # Changed again: the same draft is updated, not a second one made.
    with page.expect_response(
        lambda r: r.url.endswith(f"/api/drafts/{drafts[0]['id']}") and r.request.method == "PATCH", timeout=20_000
    ):
        _choice(page, "Positive").click()
    # Submitting it makes the annotation and removes the draft.
    page.get_by_role("button", name=SUBMIT, exact=True).click()
    _next_task(page, task)
    annotations = admin_http.get(f"/api/tasks/{task}/annotations").json()
    assert [a["result"][0]["value"]["choices"] for a in annotations] == [["Positive"]]
    assert admin_http.get(f"/api/tasks/{task}/drafts").json() == []
