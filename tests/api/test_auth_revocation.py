"""Revoking credentials: reset token, personal access tokens, sign out everywhere, deactivating a user.

Each credential kind is exercised through the real app: a legacy key (`Token`), a personal access token
(PAT, a JWT refresh token traded at /api/token/refresh/), the access token it gave (`Bearer`) and a web
session cookie.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def anonymous(app, admin):
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def _credentials(app, anonymous, token: str) -> dict:
    """Every kind of credential minted from one API key: {name: callable returning the whoami status}."""
    pat = anonymous.post("/api/token", headers={"Authorization": f"Token {token}"}).json()["token"]
    access = anonymous.post("/api/token/refresh/", json={"refresh": pat}).json()["access"]
    browser = TestClient(app, base_url="http://127.0.0.1")
    assert browser.post("/api/session", json={"token": token}).status_code == 201

    def whoami(headers):
        return anonymous.get("/api/current-user/whoami", headers=headers).status_code

    return {
        "legacy key": lambda: whoami({"Authorization": f"Token {token}"}),
        "PAT refresh": lambda: anonymous.post("/api/token/refresh/", json={"refresh": pat}).status_code,
        "access token": lambda: whoami({"Authorization": f"Bearer {access}"}),
        "session": lambda: browser.get("/api/current-user/whoami").status_code,
    }


def _statuses(credentials: dict) -> dict:
    return {name: check() for name, check in credentials.items()}


def test_reset_token_revokes_sessions_pats_and_access_tokens(app, anonymous, make_user):
    body, _ = make_user("leaky@example.com", "annotator")
    credentials = _credentials(app, anonymous, body["token"])
    assert set(_statuses(credentials).values()) == {200}

    reset = anonymous.post(
        "/api/current-user/reset-token", headers={"Authorization": f"Token {body['token']}"}
    )
    assert reset.status_code == 200
    assert _statuses(credentials) == dict.fromkeys(credentials, 401)
    fresh = {"Authorization": f"Token {reset.json()['token']}"}
    assert anonymous.get("/api/current-user/whoami", headers=fresh).json()["email"] == "leaky@example.com"


def test_sign_out_everywhere_revokes_everything_and_returns_a_new_key(app, anonymous, make_user):
    body, _ = make_user("everywhere@example.com", "manager")
    credentials = _credentials(app, anonymous, body["token"])
    browser = TestClient(app, base_url="http://127.0.0.1")
    csrf = browser.post("/api/session", json={"token": body["token"]}).json()["csrf_token"]

    # From the web UI: a session with its CSRF token; the answer clears this browser's cookie.
    answer = browser.post("/api/current-user/sign-out-everywhere", headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    assert "labelstack_session=" in answer.headers["set-cookie"]
    assert (
        'labelstack_session=""' in answer.headers["set-cookie"] or "Max-Age=0" in answer.headers["set-cookie"]
    )
    assert _statuses(credentials) == dict.fromkeys(credentials, 401)
    new_key = answer.json()["token"]
    assert new_key != body["token"]
    assert anonymous.get("/api/projects", headers={"Authorization": f"Token {new_key}"}).status_code == 200
    # Credentials minted after it work.
    assert set(_statuses(_credentials(app, anonymous, new_key)).values()) == {200}


def test_list_and_revoke_personal_access_tokens(api, anonymous):
    first = api.post("/api/token/")
    assert first.status_code == 201
    assert {"token", "created_at", "expires_at"} <= set(first.json())
    second = api.post("/api/token").json()

    listed = api.get("/api/token/")
    assert listed.status_code == 200
    rows = listed.json()
    assert len(rows) == 2 and all({"jti", "created_at", "expires_at"} <= set(row) for row in rows)
    # Never the token itself, nor any part of it.
    text = listed.text
    for token in (first.json()["token"], second["token"]):
        assert all(part not in text for part in token.split("."))

    # Label Studio's blacklist: the token names itself.
    assert api.post("/api/token/blacklist/", json={"refresh": first.json()["token"]}).status_code == 200
    assert anonymous.post("/api/token/refresh/", json={"refresh": first.json()["token"]}).status_code == 401
    assert anonymous.post("/api/token/refresh/", json={"refresh": second["token"]}).status_code == 200
    assert api.post("/api/token/blacklist/", json={"refresh": first.json()["token"]}).status_code == 404
    missing = api.post("/api/token/blacklist/", json={})
    assert missing.status_code == 400 and "refresh" in missing.json()["validation_errors"]

    # By id, from the list.
    (remaining,) = api.get("/api/token").json()
    assert api.delete(f"/api/token/{remaining['jti']}").status_code == 204
    assert anonymous.post("/api/token/refresh/", json={"refresh": second["token"]}).status_code == 401
    assert api.get("/api/token").json() == []
    assert api.delete(f"/api/token/{remaining['jti']}").status_code == 404


def test_a_user_cannot_revoke_or_see_another_users_tokens(api, make_user, anonymous):
    pat = api.post("/api/token").json()["token"]
    jti = api.get("/api/token").json()[0]["jti"]
    _, other = make_user("other@example.com", "admin")
    assert other.get("/api/token").json() == []
    assert other.post("/api/token/blacklist", json={"refresh": pat}).status_code == 404
    assert other.delete(f"/api/token/{jti}").status_code == 404
    assert anonymous.post("/api/token/refresh", json={"refresh": pat}).status_code == 200


def test_deactivated_user_gets_401_everywhere_and_reactivation_does_not_resurrect(
    api, app, anonymous, make_user
):
    body, _ = make_user("leaver@example.com", "annotator")
    credentials = _credentials(app, anonymous, body["token"])

    deactivated = api.patch(f"/api/users/{body['id']}", json={"is_active": False})
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["is_active"] is False and "token" not in deactivated.json()
    assert _statuses(credentials) == dict.fromkeys(credentials, 401)
    assert anonymous.post("/api/session", json={"token": body["token"]}).status_code == 401
    assert api.get(f"/api/users/{body['id']}").json()["is_active"] is False

    reactivated = api.patch(f"/api/users/{body['id']}/", json={"is_active": True})
    assert reactivated.status_code == 200 and reactivated.json()["is_active"] is True
    assert _statuses(credentials) == dict.fromkeys(credentials, 401)
    new_key = reactivated.json()["token"]
    assert (
        anonymous.get("/api/current-user/whoami", headers={"Authorization": f"Token {new_key}"}).json()[
            "email"
        ]
        == "leaver@example.com"
    )


def test_only_admins_deactivate_and_not_themselves(api, admin, make_user):
    target, target_client = make_user("target@example.com", "annotator")
    _, manager = make_user("boss@example.com", "manager")
    assert manager.patch(f"/api/users/{target['id']}", json={"is_active": False}).status_code == 403
    assert target_client.patch(f"/api/users/{target['id']}", json={"is_active": False}).status_code == 403
    assert target_client.get("/api/current-user/whoami").status_code == 200

    self_deactivation = api.patch(f"/api/users/{admin.id}", json={"is_active": False})
    assert self_deactivation.status_code == 400
    assert "is_active" in self_deactivation.json()["validation_errors"]
    assert api.get("/api/current-user/whoami").status_code == 200

    not_bool = api.patch(f"/api/users/{target['id']}", json={"is_active": "maybe"})
    assert not_bool.status_code == 400 and "is_active" in not_bool.json()["validation_errors"]
    assert api.patch("/api/users/999999", json={"is_active": False}).status_code == 404
    renamed = api.patch(f"/api/users/{target['id']}", json={"first_name": "Tia"})
    assert renamed.status_code == 200 and renamed.json()["first_name"] == "Tia"
    assert target_client.get("/api/current-user/whoami").status_code == 200
