"""Invitations: who may make them, what they carry, and that each is used once, before it expires."""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.api.test_projects import create_project

PASSWORD = "a fine password"


@pytest.fixture
def anonymous(app, admin):
    """A browser that is not signed in (cookies kept, on a loopback host)."""
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def _token_of(invite: dict) -> str:
    """The token, as the invite link carries it (after the `#`, so no server ever sees it)."""
    url = urlsplit(invite["invite_url"])
    assert url.path == "/" and url.fragment.startswith("/signup?")
    (token,) = parse_qs(url.fragment.split("?", 1)[1])["token"]
    assert token == invite["token"]
    return token


def _sign_up(client, token: str, email: str, password: str = PASSWORD, **names):
    return client.post("/api/signup", json={"token": token, "email": email, "password": password, **names})


def test_label_studios_get_invite_gives_a_single_use_annotator_link_stored_hashed(api, anonymous):
    from functions.store.models import TokenModel
    from functions.store.users import token_hash

    invite = api.get("/api/invite")
    assert invite.status_code == 200, invite.text
    body = invite.json()
    assert {"invite_url", "token"} <= set(body) and body["role"] == "annotator"
    token = _token_of(body)
    stored = TokenModel.get(token_hash(token))
    assert stored.kind == "invite" and stored.role == "annotator" and stored.expires_at is not None
    with pytest.raises(TokenModel.DoesNotExist):
        TokenModel.get(token)
    # Each GET is a new link: a stored hash cannot be shown again.
    assert api.get("/api/invite").json()["token"] != token

    assert anonymous.post("/api/invite/check", json={"token": token}).json() == {
        "role": "annotator",
        "project": None,
        "email": None,
        "expires_at": body["expires_at"],
    }
    signed_up = _sign_up(anonymous, token, "New.Person@example.com", first_name="New", last_name="Person")
    assert signed_up.status_code == 201, signed_up.text
    session = signed_up.json()
    assert session["user"]["email"] == "new.person@example.com" and session["user"]["role"] == "annotator"
    assert session["user"]["first_name"] == "New" and "csrf_token" in session
    assert "labelstack_session=" in signed_up.headers["set-cookie"]
    assert anonymous.get("/api/current-user/whoami").json()["email"] == "new.person@example.com"
    with pytest.raises(TokenModel.DoesNotExist):
        TokenModel.get(token_hash(token))

    # Used once: the link is dead for everyone after.
    with TestClient(anonymous.app, base_url="http://127.0.0.1") as second:
        again = _sign_up(second, token, "someone.else@example.com")
        assert again.status_code == 400 and "used already" in again.json()["validation_errors"]["token"][0]
        assert second.post("/api/invite/check", json={"token": token}).status_code == 400
        # And the new user signs in with their password.
        signed_in = second.post(
            "/api/session", json={"email": "new.person@example.com", "password": PASSWORD}
        )
        assert signed_in.status_code == 201


def test_the_invite_carries_the_role_and_the_project(api, anonymous):
    project = create_project(api, title="Invited into")
    invite = api.post("/api/invite", json={"role": "manager", "project": project["id"]})
    assert invite.status_code == 201, invite.text
    check = anonymous.post("/api/invite/check", json={"token": invite.json()["token"]}).json()
    assert check["role"] == "manager" and check["project"] == {"id": project["id"], "title": "Invited into"}
    user = _sign_up(anonymous, invite.json()["token"], "boss@example.com").json()["user"]
    assert user["role"] == "manager"
    members = [m["user"]["id"] for m in api.get(f"/api/projects/{project['id']}/members").json()]
    assert user["id"] in members
    assert anonymous.get(f"/api/projects/{project['id']}").status_code == 200
    # The new user has an API key of their own, which the account page can show.
    key = anonymous.get("/api/current-user/token").json()["token"]
    with TestClient(anonymous.app, headers={"Authorization": f"Token {key}"}) as script:
        assert script.get("/api/current-user/whoami").json()["email"] == "boss@example.com"


def test_an_invite_expires(api, anonymous, monkeypatch):
    from functions.services import invites

    token = api.post("/api/invite", json={}).json()["token"]
    later = invites.utcnow() + timedelta(days=7, seconds=1)
    monkeypatch.setattr(invites, "utcnow", lambda: later)
    expired = _sign_up(anonymous, token, "late@example.com")
    assert expired.status_code == 400 and "expired" in expired.json()["validation_errors"]["token"][0]
    assert anonymous.post("/api/invite/check", json={"token": token}).status_code == 400
    assert "late@example.com" not in [u["email"] for u in api.get("/api/users").json()]


def test_nothing_is_used_up_by_a_sign_up_that_fails_its_checks(api, anonymous):
    token = api.post("/api/invite", json={"email": "Only.Me@example.com"}).json()["token"]
    for body, field in (
        ({"email": "only.me@example.com", "password": "short"}, "password"),
        ({"email": "someone@example.com", "password": PASSWORD}, "email"),
        ({"email": "admin@example.com", "password": PASSWORD}, "email"),
        ({"password": PASSWORD, "first_name": "x" * 151}, "first_name"),
    ):
        refused = anonymous.post("/api/signup", json={"token": token, **body})
        assert refused.status_code == 400 and field in refused.json()["validation_errors"], (
            body,
            refused.text,
        )
    # The email the invitation names is used when none is sent.
    fine = anonymous.post("/api/signup", json={"token": token, "password": PASSWORD})
    assert fine.status_code == 201 and fine.json()["user"]["email"] == "only.me@example.com"
    # An invitation for someone who has an account already is refused when made.
    taken = api.post("/api/invite", json={"email": "only.me@example.com"})
    assert taken.status_code == 400 and "email" in taken.json()["validation_errors"]


def test_two_sign_ups_racing_with_one_invite_make_one_user(api, app):
    token = api.post("/api/invite", json={}).json()["token"]
    statuses: list[int] = []
    start = threading.Barrier(2)

    def sign_up(email: str) -> None:
        with TestClient(app, base_url="http://127.0.0.1") as client:
            start.wait()
            statuses.append(_sign_up(client, token, email).status_code)

    threads = [threading.Thread(target=sign_up, args=(f"racer{i}@example.com",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 400]
    emails = [u["email"] for u in api.get("/api/users").json()]
    assert sum(e.startswith("racer") for e in emails) == 1


def test_who_may_invite_whom(api, make_user):
    mine = create_project(api, title="The manager's")
    other = create_project(api, title="Someone else's")
    manager_json, manager = make_user("manager@example.com", "manager")
    assert (
        api.post(f"/api/projects/{mine['id']}/members", json={"user": manager_json["id"]}).status_code == 201
    )
    _, annotator = make_user("annotator@example.com", "annotator")
    _, reviewer = make_user("reviewer@example.com", "reviewer")

    # A manager invites annotators and reviewers into a project of theirs, and nothing else.
    for role in ("annotator", "reviewer"):
        made = manager.post("/api/invite", json={"role": role, "project": mine["id"]})
        assert made.status_code == 201, made.text
    assert manager.post("/api/invite", json={"role": "manager", "project": mine["id"]}).status_code == 403
    assert manager.post("/api/invite", json={"role": "admin", "project": mine["id"]}).status_code == 403
    assert manager.post("/api/invite", json={"role": "annotator"}).status_code == 403
    assert manager.get("/api/invite").status_code == 403
    assert manager.post("/api/invite", json={"project": other["id"]}).status_code == 404
    assert manager.post("/api/invite/reset-token").status_code == 403
    # Annotators and reviewers invite no one.
    for client in (annotator, reviewer):
        assert client.get("/api/invite").status_code == 403
        assert client.post("/api/invite", json={"project": mine["id"]}).status_code in (403, 404)
    # An admin invites anyone, anywhere; a role that does not exist is a 400.
    assert api.post("/api/invite", json={"role": "admin"}).status_code == 201
    bad = api.post("/api/invite", json={"role": "owner"})
    assert bad.status_code == 400 and "role" in bad.json()["validation_errors"]


def test_reset_token_revokes_every_open_invite(api, anonymous, make_user):
    project = create_project(api)
    manager_json, manager = make_user("inviter@example.com", "manager")
    api.post(f"/api/projects/{project['id']}/members", json={"user": manager_json["id"]})
    open_links = [
        api.get("/api/invite").json()["token"],
        manager.post("/api/invite", json={"project": project["id"]}).json()["token"],
    ]
    reset = api.post("/api/invite/reset-token")
    assert reset.status_code == 201 and set(reset.json()) >= {"invite_url", "token"}
    for token in open_links:
        assert anonymous.post("/api/invite/check", json={"token": token}).status_code == 400
    assert anonymous.post("/api/invite/check", json={"token": reset.json()["token"]}).status_code == 200


def test_sign_up_is_json_only_and_takes_no_other_credentials(anonymous, api):
    token = api.get("/api/invite").json()["token"]
    form = anonymous.post(
        "/api/signup", data={"token": token, "email": "form@example.com", "password": PASSWORD}
    )
    assert form.status_code == 400 and "set-cookie" not in form.headers
    # A session or an API token is no invitation.
    key = api.post("/api/users", json={"email": "keyed@example.com"}).json()["token"]
    refused = _sign_up(anonymous, key, "keyed2@example.com")
    assert refused.status_code == 400 and "token" in refused.json()["validation_errors"]
    assert _sign_up(anonymous, token, "form@example.com").status_code == 201
