"""An annotator is offered nothing an annotator cannot do: no project creation, import, snapshot, settings,
members or manager-only Data Manager actions, on any page; and no Update of someone else's annotation.
Labeling (and what annotators may do: export, copy predictions into annotations) stays."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.conftest import END_OF_QUEUE, create_project, screenshot, sign_in

CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text" choice="single">'
    '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>'
)
MANAGER_BUTTONS = (
    "Create project",
    "Import",
    "Export snapshot (large projects)",
    "Save",
    "Add",
    "Remove",
    "Connect",
    "Delete project",
    "Upload",
)


def _no_manager_controls(page) -> None:
    for name in MANAGER_BUTTONS:
        assert page.get_by_role("button", name=name, exact=True).count() == 0, name
    assert page.get_by_role("link", name="Settings", exact=True).count() == 0


def test_an_annotator_sees_no_manager_controls_and_can_label(page, admin_http, expected):
    expected.response(*END_OF_QUEUE)  # the annotator labels the stream to its end
    project_id, task_ids = create_project(
        admin_http, "Team reviews", CONFIG, [{"text": "Loved it."}, {"text": "Broke in a day."}]
    )
    # The admin answers the second task first: that annotation is not the annotator's to change.
    result = [
        {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Negative"]}}
    ]
    assert (
        admin_http.post(f"/api/tasks/{task_ids[1]}/annotations", json={"result": result}).status_code == 201
    )
    created = admin_http.post("/api/users", json={"email": "annie@example.com", "role": "annotator"})
    assert created.status_code == 201, created.text
    annotator = created.json()
    assert (
        admin_http.post(f"/api/projects/{project_id}/members", json={"user": annotator["id"]}).status_code
        == 201
    )

    sign_in(page, annotator["token"])
    expect(page.locator("#bar .who")).to_have_text("annie@example.com (annotator)")
    page.get_by_role("link", name="Team reviews").wait_for()
    _no_manager_controls(page)
    # Where the creation form would be there is nothing, not a stray "null".
    assert "null" not in page.locator("main").inner_text()
    screenshot(page, "15-annotator-projects")

    # The data manager: tasks, labeling, export, and only the action an annotator may run.
    page.get_by_role("link", name="Team reviews").click()
    page.locator("tr[data-task]").nth(1).wait_for()
    _no_manager_controls(page)
    options = page.get_by_label("Action").locator("option").all_inner_texts()
    assert options == ["Choose an action", "Create annotations from predictions"]
    expect(page.get_by_role("button", name="Export", exact=True)).to_be_visible()
    assert page.get_by_role("button", name="Review").count() == 0  # reviewing is for reviewers
    screenshot(page, "16-annotator-data-manager")

    # Settings, typed in by hand: a plain answer, no forms to be refused.
    for section in ("general", "models", "predictions", "members", "danger"):
        page.goto(f"/#/projects/{project_id}/settings/{section}")
        page.get_by_test_id("not-allowed").wait_for()
        _no_manager_controls(page)
    screenshot(page, "17-annotator-settings")

    # Labeling works: the stream's task, submitted.
    page.goto(f"/#/projects/{project_id}/label")
    heading = page.get_by_test_id("task-heading")
    expect(heading).to_have_attribute("data-task", str(task_ids[0]))
    page.locator(".lsf-root label", has_text="Positive").first.click()
    page.get_by_role("button", name="submit", exact=True).click()
    page.get_by_test_id("no-more-tasks").wait_for()  # the other task has its one annotation already

    # The admin's annotated task, opened from the data manager: the annotator gets an annotation of their
    # own to submit (Submit), not the admin's to Update.
    page.goto(f"/#/projects/{project_id}/label?task={task_ids[1]}")
    expect(heading).to_have_attribute("data-task", str(task_ids[1]))
    submit = page.locator(".lsf-root button[aria-label=submit]")
    expect(submit).to_have_text("Submit")
    assert page.locator(".lsf-root label", has_text="Negative").locator("input").is_checked() is False
    page.locator(".lsf-root label", has_text="Positive").first.click()
    expect(page.locator(".lsf-root label", has_text="Positive").locator("input")).to_be_checked()
    screenshot(page, "18-annotator-label")
    submit.click()
    page.get_by_text("Submitted.").wait_for()

    for task_id in task_ids:
        mine = [
            a
            for a in admin_http.get(f"/api/tasks/{task_id}/annotations").json()
            if a["completed_by"] == annotator["id"]
        ]
        assert [a["result"][0]["value"]["choices"] for a in mine] == [["Positive"]], task_id
