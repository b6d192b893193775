"""Reviewing: a reviewer rejects an annotation from the Data Manager (the task's Review dialog, with the
task's agreement) and accepts one under the labeling view; the project's agreement on request. An
annotator gets none of these controls."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.web.conftest import create_project, screenshot, sign_in

CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text" choice="single">'
    '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>'
)


def _answer(value: str) -> list[dict]:
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [value]}}]


def test_a_reviewer_rejects_and_accepts_annotations(page, admin_http):
    project_id, [task_id] = create_project(
        admin_http, "Review", CONFIG, [{"text": "Fine, I guess."}], maximum_annotations=2
    )
    people = {}
    for email, role in (("rita@example.com", "reviewer"), ("ann@example.com", "annotator")):
        made = admin_http.post("/api/users", json={"email": email, "role": role})
        assert made.status_code == 201, made.text
        people[role] = made.json()
        admin_http.post(f"/api/projects/{project_id}/members", json={"user": people[role]["id"]})
    mine = admin_http.post(f"/api/tasks/{task_id}/annotations", json={"result": _answer("Positive")}).json()
    annotator = people["annotator"]
    with httpx.Client(
        base_url=str(admin_http.base_url), headers={"Authorization": f"Token {annotator['token']}"}
    ) as as_annotator:
        theirs = as_annotator.post(
            f"/api/tasks/{task_id}/annotations", json={"result": _answer("Negative")}
        ).json()

    # The Data Manager: the reviewer's Review column and dialog, with the task's agreement.
    sign_in(page, people["reviewer"]["token"])
    page.goto(f"/#/projects/{project_id}")
    row = page.locator(f"tr[data-task='{task_id}']")
    expect(row.locator("[data-col=review]")).to_contain_text("0 ✓ · 0 ✗ · 2 ?")
    row.get_by_role("button", name="Review").click()
    dialog = page.get_by_test_id("review-dialog")
    expect(dialog.get_by_test_id("task-agreement")).to_have_text("Agreement between its 2 annotations: 0%")
    item = dialog.locator(f"[data-annotation='{theirs['id']}']")
    expect(item).to_contain_text("by ann@example.com")
    expect(item).to_contain_text("Negative")
    item.get_by_label(f"Comment on annotation {theirs['id']}").fill("It reads positive.")
    item.get_by_role("button", name="Reject").click()
    expect(item.get_by_test_id("verdict")).to_have_text("Rejected")
    screenshot(page, "38-review-dialog")
    [review] = admin_http.get("/api/annotation-reviews", params={"annotation": theirs["id"]}).json()
    assert (review["accepted"], review["comment"], review["created_by"]) == (
        False,
        "It reads positive.",
        people["reviewer"]["id"],
    )
    dialog.get_by_role("button", name="Close").click()
    expect(row.locator("[data-col=review]")).to_contain_text("0 ✓ · 1 ✗ · 1 ?")
    page.get_by_role("button", name="Project agreement").click()
    expect(page.get_by_test_id("project-agreement")).to_have_text(
        "mean 0%, median 0% over 1 tasks with two or more annotations"
    )

    # The labeling view: the same task, its annotations to review under the labeling interface.
    row.get_by_role("link", name="Open").click()
    panel = page.get_by_test_id("review-panel")
    mine_item = panel.locator(f"[data-annotation='{mine['id']}']")
    expect(mine_item.get_by_test_id("verdict")).to_have_text("Not reviewed")
    expect(panel.locator(f"[data-annotation='{theirs['id']}'] [data-testid=verdict]")).to_have_text(
        "Rejected"
    )
    mine_item.get_by_role("button", name="Accept").click()
    expect(mine_item.get_by_test_id("verdict")).to_have_text("Accepted")
    screenshot(page, "39-review-label-view")
    assert admin_http.get(f"/api/annotations/{mine['id']}").json()["review_status"] == "accepted"

    # An annotator sees no review controls, in the Data Manager or under the labeling view.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("API token").wait_for()  # signed out: the session's DELETE has been answered
    sign_in(page, annotator["token"])
    page.goto(f"/#/projects/{project_id}")
    page.locator(f"tr[data-task='{task_id}']").wait_for()
    assert page.get_by_role("columnheader", name="Review").count() == 0
    assert page.get_by_role("button", name="Project agreement").count() == 0
    page.goto(f"/#/projects/{project_id}/label?task={task_id}")
    page.get_by_test_id("task-heading").wait_for()
    page.locator(".lsf-root").wait_for()
    assert page.get_by_test_id("review-panel").count() == 0
