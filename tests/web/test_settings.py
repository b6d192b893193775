"""Settings pages say what is true now: no "Saved." under a newer error, no "Add" with nobody to add."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.conftest import create_project, screenshot, sign_in

CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="c" toName="text"><Choice value="A"/></Choices></View>'
)


def test_saved_goes_once_the_form_changes_and_a_config_error_shows_alone(page, admin_http, expected):
    # Provoked on purpose: the live check of a config typed with an error.
    expected.response(400, r"/api/projects/validate$")
    project_id, _ = create_project(admin_http, "Settings", CONFIG, [{"text": "x"}])
    sign_in(page)
    page.goto(f"/#/projects/{project_id}/settings/labeling")
    page.get_by_test_id("config-preview").locator(".lsf-root label", has_text="A").wait_for()
    form = page.locator(".settings-body form")
    page.get_by_role("button", name="Save").click()
    saved = form.get_by_text("Saved.")
    expect(saved).to_be_visible()
    page.get_by_label("Label config").fill(
        '<View><Choices name="c" toName="nowhere"><Choice value="A"/></Choices></View>'
    )
    expect(form.locator(".status.error")).to_be_visible()
    expect(saved).to_have_count(0)
    screenshot(page, "19-settings-config-error")

    # The instructions tab previews the HTML as annotators will see it, sanitized.
    page.goto(f"/#/projects/{project_id}/settings/instructions")
    page.get_by_label("Instructions for annotators", exact=False).fill("<p>Use <b>bold</b> judgement.</p>")
    preview = page.get_by_test_id("instructions-preview")
    expect(preview.locator("b", has_text="bold")).to_be_visible()
    assert "<p>" not in preview.inner_text()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    screenshot(page, "21-settings-instructions")
    assert admin_http.get(f"/api/projects/{project_id}").json()["expert_instruction"] == (
        "<p>Use <b>bold</b> judgement.</p>"
    )


def test_members_add_offers_only_users_to_add(page, admin_http):
    project_id, _ = create_project(admin_http, "Members", CONFIG, [{"text": "x"}])
    newcomer = admin_http.post(
        "/api/users", json={"email": "newcomer@example.com", "role": "annotator"}
    ).json()
    sign_in(page)
    page.goto(f"/#/projects/{project_id}/settings/members")
    page.get_by_label("User").select_option(label="newcomer@example.com (annotator)")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_test_id("members")).to_contain_text("newcomer@example.com")

    # Everyone a member: nothing to choose and no button to press (it used to answer "User 0 does not exist").
    for user in admin_http.get("/api/users").json():
        admin_http.post(f"/api/projects/{project_id}/members", json={"user": user["id"]})
    page.reload()
    expect(page.get_by_test_id("no-candidates")).to_be_visible()
    assert page.get_by_role("button", name="Add", exact=True).count() == 0
    assert page.get_by_label("User").count() == 0
    screenshot(page, "22-settings-members-everyone")
    assert newcomer["id"] in [
        m["user"]["id"] for m in admin_http.get(f"/api/projects/{project_id}/members").json()
    ]
