"""Accounts in the browser: password sign-in, invitations and sign-up, the users page, the account page."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.web.conftest import ADMIN_TOKEN, create_project, screenshot, sign_in, sign_in_with_password

CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text" choice="single">'
    '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>'
)
MANAGER_BUTTONS = (
    "Create project",
    "Import",
    "Save",
    "Add",
    "Remove",
    "Connect",
    "Delete project",
    "Upload",
    "Create invitation link",
    "Create user",
    "Deactivate",
)


def _no_manager_controls(page) -> None:
    for name in MANAGER_BUTTONS:
        assert page.get_by_role("button", name=name, exact=True).count() == 0, name
    assert page.get_by_role("link", name="Settings", exact=True).count() == 0
    assert page.get_by_role("link", name="Users", exact=True).count() == 0


def test_password_sign_in(page, admin_http, expected):
    expected.response(401, r"/api/session$")  # the wrong password, on purpose
    created = admin_http.post(
        "/api/users",
        json={"email": "pw@example.com", "role": "manager", "password": "a long enough password"},
    )
    assert created.status_code == 201, created.text
    page.goto("/")
    page.get_by_label("Email").fill("pw@example.com")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("The email and password you entered don't match.").wait_for()
    assert page.get_by_label("Password", exact=True).input_value() == "not the password"  # to correct it
    screenshot(page, "23-sign-in-wrong-password")

    sign_in_with_password(page, "pw@example.com", "a long enough password")
    expect(page.locator("#bar .who")).to_have_text("pw@example.com (manager)")
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "labelstack_session"]
    assert cookie["httpOnly"] and "labelstack_session" not in page.evaluate("document.cookie")
    # A manager creates projects, but is no admin: no Users page.
    page.get_by_role("button", name="Create project").wait_for()
    assert page.get_by_role("link", name="Users", exact=True).count() == 0
    screenshot(page, "24-signed-in-with-password")
    # In a project of theirs a manager invites annotators and reviewers, and no one above them.
    project_id, _ = create_project(admin_http, "Managed", CONFIG, [{"text": "x"}])
    added = admin_http.post(f"/api/projects/{project_id}/members", json={"user": created.json()["id"]})
    assert added.status_code == 201, added.text
    page.goto(f"/#/projects/{project_id}/settings/members")
    page.get_by_label("Invite as").wait_for()
    roles = page.get_by_label("Invite as").locator("option").all_inner_texts()
    assert roles == ["annotator", "reviewer"]
    page.goto("/#/users")
    page.get_by_test_id("not-allowed").wait_for()


def test_an_invited_annotator_signs_up_signs_in_and_sees_no_manager_controls(page, admin_http, expected):
    # Opening the link a second time, on purpose: it was used.
    expected.response(400, r"/api/invite/check$")
    project_id, _ = create_project(admin_http, "Invited team", CONFIG, [{"text": "Good."}, {"text": "Bad."}])

    # The admin makes the link on the project's members page: the new annotator joins that project.
    sign_in(page)
    page.goto(f"/#/projects/{project_id}/settings/members")
    page.get_by_label("Invite as").select_option("annotator")
    page.get_by_role("button", name="Create invitation link").click()
    link = page.get_by_test_id("invite-link").input_value()
    assert link.startswith(page.url.split("#")[0] + "#/signup?token=")
    screenshot(page, "25-members-invite-link")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in with token").wait_for()

    # The invited person opens the link, sets a password and is signed in.
    page.goto(link)
    expect(page.get_by_test_id("invite-summary")).to_have_text(
        "You are invited as an annotator to the project “Invited team”."
    )
    page.get_by_label("Email").fill("invited@example.com")
    page.get_by_label("First name").fill("Ina")
    page.get_by_label("Password (at least 8 characters)").fill("my own password")
    page.get_by_label("Repeat the password").fill("my own password")
    screenshot(page, "26-sign-up")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Projects").wait_for()
    expect(page.locator("#bar .who")).to_have_text("invited@example.com (annotator)")
    page.get_by_role("link", name="Invited team").wait_for()
    _no_manager_controls(page)

    # Signed out and in again, with the password: still an annotator, with nothing a manager has.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in with token").wait_for()
    sign_in_with_password(page, "invited@example.com", "my own password")
    page.get_by_role("link", name="Invited team").click()
    page.locator("tr[data-task]").nth(1).wait_for()
    _no_manager_controls(page)
    options = page.get_by_label("Action").locator("option").all_inner_texts()
    assert options == ["Choose an action", "Create annotations from predictions"]  # no delete actions
    screenshot(page, "27-invited-annotator-data-manager")
    page.goto("/#/users")
    page.get_by_test_id("not-allowed").wait_for()
    _no_manager_controls(page)
    users = {u["email"]: u for u in admin_http.get("/api/users").json()}
    assert users["invited@example.com"]["role"] == "annotator"
    assert users["invited@example.com"]["first_name"] == "Ina"

    # The link worked once.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in with token").wait_for()
    page.goto(link)
    expect(page.get_by_test_id("invite-invalid")).to_contain_text("used already")
    screenshot(page, "28-sign-up-link-used")


def test_the_users_page_invites_creates_and_changes_roles(page, admin_http):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page)
    page.get_by_role("link", name="Users", exact=True).click()
    page.get_by_test_id("users").wait_for()

    page.get_by_label("Invite as").select_option("reviewer")
    page.get_by_role("button", name="Create invitation link").click()
    link = page.get_by_test_id("invite-link").input_value()
    page.get_by_test_id("invite-result").get_by_role("button", name="Copy").click()
    page.get_by_text("Copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == link
    token = link.split("token=", 1)[1]
    with httpx.Client(base_url=page.url.split("#")[0]) as anonymous:
        assert anonymous.post("/api/invite/check", json={"token": token}).json()["role"] == "reviewer"

    page.get_by_label("Email", exact=True).fill("made@example.com")
    page.get_by_label("New user's role").select_option("annotator")
    page.get_by_label("Password (optional").fill("made with a password")
    page.get_by_role("button", name="Create user").click()
    page.get_by_text("Created made@example.com.").wait_for()
    new_token = page.get_by_test_id("new-user-token").input_value()
    row = page.locator("tr[data-user='made@example.com']")
    row.get_by_label("Role of made@example.com").select_option("manager")
    page.get_by_text("made@example.com is now a manager.").wait_for()
    screenshot(page, "29-users")
    with httpx.Client(
        base_url=page.url.split("#")[0], headers={"Authorization": f"Token {new_token}"}
    ) as made:
        assert made.get("/api/current-user/whoami").json()["role"] == "manager"
    # The admin's own row offers no role change and no deactivation.
    me = admin_http.get("/api/current-user/whoami").json()["email"]
    mine = page.locator(f"tr[data-user='{me}']")
    assert mine.locator("select").count() == 0 and mine.get_by_role("button").count() == 0


def test_the_account_page_shows_and_resets_the_token(page, admin_http, local_stack):
    created = admin_http.post(
        "/api/users", json={"email": "keys@example.com", "role": "reviewer", "password": "first password"}
    ).json()
    sign_in_with_password(page, "keys@example.com", "first password")
    page.locator("#bar .who").click()
    page.get_by_role("heading", name="Account").wait_for()
    expect(page.get_by_test_id("account-who")).to_have_text("keys@example.com · reviewer")

    page.get_by_role("button", name="Show token").click()
    assert page.get_by_test_id("api-token").input_value() == created["token"]
    screenshot(page, "30-account-token")

    page.get_by_role("button", name="Reset token").click()
    page.get_by_text("A new token replaces the old one").wait_for()
    new_token = page.get_by_test_id("api-token").input_value()
    assert new_token != created["token"]
    with httpx.Client(base_url=local_stack) as script:
        old = script.get("/api/current-user/whoami", headers={"Authorization": f"Token {created['token']}"})
        assert old.status_code == 401
        new = script.get("/api/current-user/whoami", headers={"Authorization": f"Token {new_token}"})
        assert new.json()["email"] == "keys@example.com"
    # The page signed itself in again with the new token: it goes on working.
    page.get_by_role("button", name="Show token").click()
    expect(page.get_by_test_id("api-token")).to_have_value(new_token)

    # Personal access tokens: made (shown once), listed, revoked.
    page.get_by_role("button", name="Create token").click()
    pat = page.get_by_test_id("new-pat").input_value()
    rows = page.get_by_test_id("personal-tokens").locator("tbody tr")
    expect(rows).to_have_count(1)
    with httpx.Client(base_url=local_stack) as script:
        assert script.post("/api/token/refresh", json={"refresh": pat}).status_code == 200
        rows.first.get_by_role("button", name="Revoke").click()
        expect(rows).to_have_count(0)
        assert script.post("/api/token/refresh", json={"refresh": pat}).status_code == 401

    # The password: the current one first, then the new one signs in.
    page.get_by_label("Current password").fill("first password")
    page.get_by_label("New password (8 to 128 characters)").fill("second password")
    page.get_by_label("Repeat the new password").fill("second password")
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Password saved.").wait_for()
    screenshot(page, "31-account")
    page.get_by_role("button", name="Sign out of this browser").click()
    page.get_by_role("button", name="Sign in with token").wait_for()
    sign_in_with_password(page, "keys@example.com", "second password")
    assert ADMIN_TOKEN not in page.content()
