"""An annotator who is not a member of a project sees neither it nor its tasks: in the UI, or through the
API."""

from __future__ import annotations

import httpx

from tests.web.conftest import create_project, screenshot, sign_in

CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="c" toName="text">'
    '<Choice value="A"/><Choice value="B"/></Choices></View>'
)


def test_a_non_member_annotator_cannot_see_the_project_or_its_tasks(page, admin_http, local_stack, expected):
    project_id, task_ids = create_project(
        admin_http, "Private project", CONFIG, [{"text": "secret task one"}, {"text": "secret task two"}]
    )
    # Provoked on purpose: the annotator opens the project's pages by URL before being a member.
    expected.response(404, rf"/api/projects/{project_id}$")
    created = admin_http.post("/api/users", json={"email": "outsider@example.com", "role": "annotator"})
    assert created.status_code == 201, created.text
    annotator = created.json()

    # Through the API, with the annotator's token: 404 everywhere, as if the project did not exist.
    with httpx.Client(base_url=local_stack, headers={"Authorization": f"Token {annotator['token']}"}) as http:
        assert project_id not in [p["id"] for p in http.get("/api/projects").json()["results"]]
        for path in (
            f"/api/projects/{project_id}",
            f"/api/tasks?project={project_id}",
            f"/api/tasks/{task_ids[0]}",
            f"/api/projects/{project_id}/next",
            f"/api/projects/{project_id}/export?exportType=JSON",
        ):
            response = http.get(path)
            assert response.status_code == 404, (path, response.status_code, response.text)
            assert "secret task" not in response.text

    # In the UI, signed in as the annotator.
    sign_in(page, annotator["token"])
    assert "Private project" not in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Create project").count() == 0
    screenshot(page, "09-annotator-projects")
    for route in (f"#/projects/{project_id}", f"#/projects/{project_id}/label"):
        page.goto(f"/{route}")
        page.get_by_role("heading", name="Not found").wait_for()
        assert "secret task" not in page.content()
    screenshot(page, "10-annotator-not-found")

    # The same annotator, once a member, sees it: the refusal above was about membership.
    assert (
        admin_http.post(f"/api/projects/{project_id}/members", json={"user": annotator["id"]}).status_code
        == 201
    )
    page.goto(f"/#/projects/{project_id}")
    page.locator("tr[data-task]").nth(1).wait_for()
    assert "secret task one" in page.get_by_test_id("task-table").inner_text()
    assert page.get_by_role("button", name="Import").count() == 0  # annotators do not import
