"""The browser's session cookie: HttpOnly, SameSite, and useless for unsafe methods without the CSRF token."""

from __future__ import annotations

import httpx

from tests.web.conftest import ADMIN_TOKEN, sign_in

NEW_PROJECT = {"title": "csrf probe", "label_config": '<View><Text name="t" value="$t"/></View>'}

POST_FROM_PAGE = """async ([body, csrf]) => {
  const headers = {"Content-Type": "application/json"};
  if (csrf) headers["X-CSRF-Token"] = csrf;
  const response = await fetch("/api/projects", {method: "POST", headers, body: JSON.stringify(body)});
  return response.status;
}"""


def test_cookie_posts_need_the_csrf_token_and_token_auth_does_not(page, local_stack, expected):
    # Provoked on purpose: the page posts without the CSRF token, then with a wrong one.
    expected.response(403, r"/api/projects$")
    sign_in(page)
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "labelstack_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert not cookie["secure"]  # plain HTTP is only accepted on 127.0.0.1 / localhost
    assert "labelstack_session" not in page.evaluate("document.cookie")

    # From the page itself: refused without the token or with a wrong one, accepted with the session's.
    assert page.evaluate(POST_FROM_PAGE, [NEW_PROJECT, None]) == 403
    assert page.evaluate(POST_FROM_PAGE, [NEW_PROJECT, "0" * 64]) == 403
    csrf = page.evaluate("fetch('/api/session').then(r => r.json()).then(b => b.csrf_token)")
    assert page.evaluate(POST_FROM_PAGE, [NEW_PROJECT, csrf]) == 201

    # The cookie alone, as a forged cross-site request would carry it: reads work, writes are 403.
    with httpx.Client(base_url=local_stack, cookies={cookie["name"]: cookie["value"]}) as forged:
        assert forged.get("/api/projects").status_code == 200
        refused = forged.post("/api/projects", json=NEW_PROJECT)
        assert refused.status_code == 403, refused.text
        assert "CSRF" in refused.json()["detail"]
        assert forged.delete("/api/session").status_code == 403

    # Scripts with an API token need no CSRF proof.
    with httpx.Client(base_url=local_stack, headers={"Authorization": f"Token {ADMIN_TOKEN}"}) as script:
        assert script.post("/api/projects", json=NEW_PROJECT).status_code == 201

    # Signing out ends the session on the server, not only in this browser.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("API token").wait_for()
    with httpx.Client(base_url=local_stack, cookies={cookie["name"]: cookie["value"]}) as replay:
        assert replay.get("/api/projects").status_code == 401
