"""Passwords: how they are stored, signing in with one, changing one, and slowing down guessing.

Through the real app: a password opens a browser session (cookie + CSRF token), never an API key, and no
answer ever carries a password or its hash.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.api.test_projects import TEXT_CONFIG
from tests.conftest import ADMIN_TOKEN

PASSWORD = "correct horse battery"


@pytest.fixture
def browser(app, admin):
    """A cookie-keeping client on a loopback host, as the web UI's browser is under `labelstack dev`."""
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def _user_with_password(api, email: str, role: str = "annotator", password: str = PASSWORD) -> dict:
    response = api.post("/api/users", json={"email": email, "role": role, "password": password})
    assert response.status_code == 201, response.text
    return response.json()


def _stored_hash(user_id: int) -> str | None:
    from functions.store.models import UserModel

    return UserModel.get(user_id).password_hash


def test_a_password_is_stored_as_a_salted_scrypt_hash_with_its_parameters(api):
    from functions.domain import passwords

    one = _user_with_password(api, "one@example.com")
    two = _user_with_password(api, "two@example.com")
    stored = _stored_hash(one["id"])
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "5")
    raw_salt = base64.b64decode(salt + "=" * (-len(salt) % 4))
    assert len(raw_salt) == 16
    # The stored value is scrypt over the password with that salt and those parameters: nothing else.
    expected = hashlib.scrypt(PASSWORD.encode(), salt=raw_salt, n=16384, r=8, p=5, maxmem=64 << 20, dklen=32)
    assert base64.b64decode(digest + "=" * (-len(digest) % 4)) == expected
    # Same password, another user: another salt, so another hash.
    assert _stored_hash(two["id"]) != stored and _stored_hash(two["id"]).split("$")[4] != salt
    assert PASSWORD not in stored
    assert passwords.verify(PASSWORD, stored) and not passwords.verify(PASSWORD + "!", stored)
    assert not passwords.verify(PASSWORD, None)
    assert not passwords.verify(PASSWORD, "md5$whatever")


def test_password_sign_in_opens_a_browser_session(browser, api):
    _user_with_password(api, "pat@example.com")
    signed_in = browser.post("/api/session", json={"email": "Pat@Example.com", "password": PASSWORD})
    assert signed_in.status_code == 201, signed_in.text
    body = signed_in.json()
    assert body["user"]["email"] == "pat@example.com" and re.fullmatch(r"[0-9a-f]{64}", body["csrf_token"])
    cookie = signed_in.headers["set-cookie"]
    assert "labelstack_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert browser.get("/api/current-user/whoami").json()["email"] == "pat@example.com"
    # The password is not a credential for the API: no header scheme takes it.
    for header in (f"Token {PASSWORD}", f"Bearer {PASSWORD}", f"Basic {PASSWORD}"):
        assert browser.get("/api/projects", headers={"Authorization": header}).status_code == 401


def test_a_wrong_password_an_unknown_email_and_no_password_are_the_same_401(browser, api):
    _user_with_password(api, "wrong@example.com")
    created = api.post("/api/users", json={"email": "tokenonly@example.com"}).json()  # no password
    for email, password in (
        ("wrong@example.com", PASSWORD + "x"),
        ("nobody@example.com", PASSWORD),
        ("tokenonly@example.com", PASSWORD),
        ("tokenonly@example.com", ""),
    ):
        response = browser.post("/api/session", json={"email": email, "password": password})
        if password:
            assert response.status_code == 401, (email, response.text)
            assert response.json()["detail"] == "The email and password you entered don't match."
        else:
            assert response.status_code == 400 and "password" in response.json()["validation_errors"]
        assert "set-cookie" not in response.headers
    assert browser.get("/api/session").json() == {"user": None}
    # A deactivated user's right password opens nothing either.
    deactivated = _user_with_password(api, "gone@example.com")
    assert api.patch(f"/api/users/{deactivated['id']}", json={"is_active": False}).status_code == 200
    gone = browser.post("/api/session", json={"email": "gone@example.com", "password": PASSWORD})
    assert (
        gone.status_code == 401 and gone.json()["detail"] == "The email and password you entered don't match."
    )
    # The API token still signs a browser in, as before.
    assert browser.post("/api/session", json={"token": created["token"]}).status_code == 201


def test_password_rules(api, make_user):
    for password, message in (
        ("short", "at least 8"),
        ("x" * 129, "at most 128"),
        (" " * 12, "only spaces"),
    ):
        response = api.post("/api/users", json={"email": "rules@example.com", "password": password})
        assert response.status_code == 400, password
        assert message in response.json()["validation_errors"]["password"][0]
    # Nothing was created by the refused requests.
    assert "rules@example.com" not in [u["email"] for u in api.get("/api/users").json()]
    _, member = make_user("member@example.com", "annotator")
    assert member.get("/api/current-user/password").json() == {
        "has_password": False,
        "min_length": 8,
        "max_length": 128,
    }
    short = member.post("/api/current-user/password", json={"password": "1234567"})
    assert short.status_code == 400 and "password" in short.json()["validation_errors"]
    assert member.post("/api/current-user/password", json={"password": "12345678"}).status_code == 200
    assert member.get("/api/current-user/password").json()["has_password"] is True


def test_no_answer_carries_a_password_or_its_hash(api, browser):
    created = api.post("/api/users", json={"email": "secret@example.com", "password": PASSWORD})
    user_id = created.json()["id"]
    stored = _stored_hash(user_id)
    session = browser.post("/api/session", json={"email": "secret@example.com", "password": PASSWORD})
    answers = [
        created,
        session,
        api.get("/api/users"),
        api.get(f"/api/users/{user_id}"),
        api.patch(f"/api/users/{user_id}", json={"first_name": "Sec", "password": PASSWORD + "2"}),
        browser.post("/api/session", json={"email": "secret@example.com", "password": PASSWORD + "2"}),
        browser.get("/api/current-user/whoami"),
        browser.get("/api/current-user/password"),
        browser.get("/api/session"),
    ]
    csrf = {"X-CSRF-Token": answers[5].json()["csrf_token"]}
    answers.append(
        browser.post(
            "/api/current-user/password",
            json={"old_password": PASSWORD + "2", "password": PASSWORD + "3"},
            headers=csrf,
        )
    )
    for response in answers:
        assert response.status_code < 300, response.text
        for secret in (PASSWORD, stored, _stored_hash(user_id), "scrypt$"):
            assert secret not in response.text, (response.request.url, secret)
        assert "password_hash" not in response.text
    # The OpenAPI document says so too: every field that takes a user's password is writeOnly.
    schemas = api.get("/api/openapi.json").json()["components"]["schemas"]
    fields = [
        (name, field)
        for name, schema in schemas.items()
        for field_name, field in schema.get("properties", {}).items()
        if field_name in ("password", "old_password")
    ]
    assert fields and all(field.get("writeOnly") for _, field in fields), fields


def test_a_password_session_still_needs_the_csrf_token_for_unsafe_requests(browser, api):
    _user_with_password(api, "csrf@example.com", role="manager")
    csrf = browser.post("/api/session", json={"email": "csrf@example.com", "password": PASSWORD}).json()[
        "csrf_token"
    ]
    project = {"title": "p", "label_config": TEXT_CONFIG}
    assert browser.post("/api/projects", json=project).status_code == 403
    change = {"old_password": PASSWORD, "password": "something else entirely"}
    assert browser.post("/api/current-user/password", json=change).status_code == 403
    assert browser.post("/api/projects", json=project, headers={"X-CSRF-Token": csrf}).status_code == 201
    # A sign-in form posted from another site cannot be JSON: refused before any password is checked.
    form = browser.post("/api/session", data={"email": "csrf@example.com", "password": PASSWORD})
    assert form.status_code == 400 and "set-cookie" not in form.headers


def test_failed_sign_ins_slow_the_account_down_and_a_success_starts_again(browser, api, monkeypatch):
    from functions.services import passwords

    user = _user_with_password(api, "guessed@example.com")
    wrong = {"email": "guessed@example.com", "password": "not the password"}
    right = {"email": "guessed@example.com", "password": PASSWORD}
    for _ in range(passwords.FREE_FAILURES):
        assert browser.post("/api/session", json=wrong).status_code == 401
    # Now the account waits: even the right password is not checked until then.
    for attempt in (wrong, right):
        throttled = browser.post("/api/session", json=attempt)
        assert throttled.status_code == 429, throttled.text
        assert throttled.headers["retry-after"] == "1"
        assert "set-cookie" not in throttled.headers
    # Another account is not slowed by this one's failures.
    _user_with_password(api, "other@example.com")
    assert (
        browser.post("/api/session", json={"email": "other@example.com", "password": PASSWORD}).status_code
        == 201
    )

    def later(seconds: float):
        moment = passwords.utcnow() + timedelta(seconds=seconds)
        monkeypatch.setattr(passwords, "utcnow", lambda: moment)

    later(2)
    assert browser.post("/api/session", json=wrong).status_code == 401  # the 6th failure: 2 s to wait
    assert int(browser.post("/api/session", json=right).headers["retry-after"]) == 2
    later(5)
    assert browser.post("/api/session", json=right).status_code == 201
    from functions.store.models import UserModel

    assert UserModel.get(user["id"]).failed_sign_ins == 0
    # The waits grow with each failure, to a quarter of an hour at most.
    now = passwords.utcnow()
    waits = [passwords.wait_after(n, now, now).total_seconds() for n in (4, 5, 6, 10, 14, 15, 40)]
    assert waits == [0, 1, 2, 32, 512, 900, 900]


def test_change_password_needs_the_current_one_and_ends_the_other_sessions(app, api):
    created = _user_with_password(api, "changer@example.com")
    here = TestClient(app, base_url="http://127.0.0.1")
    there = TestClient(app, base_url="http://127.0.0.1")
    credentials = {"email": "changer@example.com", "password": PASSWORD}
    csrf = {"X-CSRF-Token": here.post("/api/session", json=credentials).json()["csrf_token"]}
    assert there.post("/api/session", json=credentials).status_code == 201
    token = {"Authorization": f"Token {created['token']}"}

    missing = here.post("/api/current-user/password", json={"password": "a new password"}, headers=csrf)
    assert missing.status_code == 400 and "old_password" in missing.json()["validation_errors"]
    wrong = here.post(
        "/api/current-user/password",
        json={"old_password": "nope nope", "password": "a new password"},
        headers=csrf,
    )
    assert wrong.status_code == 400 and "old_password" in wrong.json()["validation_errors"]
    assert here.get("/api/current-user/whoami").status_code == 200  # a 400, not a sign-out

    changed = here.post(
        "/api/current-user/password",
        json={"old_password": PASSWORD, "password": "a new password"},
        headers=csrf,
    )
    assert changed.status_code == 200 and changed.json()["has_password"] is True
    assert here.get("/api/current-user/whoami").status_code == 200  # this session goes on
    assert there.get("/api/current-user/whoami").status_code == 401  # every other one ended
    assert here.get("/api/current-user/whoami", headers=token).status_code == 200  # the API key stays
    with TestClient(app, base_url="http://127.0.0.1") as fresh:
        assert fresh.post("/api/session", json=credentials).status_code == 401
        new = {"email": "changer@example.com", "password": "a new password"}
        assert fresh.post("/api/session", json=new).status_code == 201
    here.close()
    there.close()


def test_an_older_hash_is_replaced_by_one_with_the_current_parameters_at_sign_in(browser, api):
    from functions.store import users as user_store

    created = api.post("/api/users", json={"email": "old@example.com"}).json()
    salt = b"0123456789abcdef"
    weak = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=1024, r=8, p=1, dklen=32)
    b64 = lambda raw: base64.b64encode(raw).decode().rstrip("=")  # noqa: E731
    user_store.set_password_hash(created["id"], f"scrypt$1024$8$1${b64(salt)}${b64(weak)}")
    assert (
        browser.post("/api/session", json={"email": "old@example.com", "password": PASSWORD}).status_code
        == 201
    )
    assert _stored_hash(created["id"]).startswith("scrypt$16384$8$5$")
    with TestClient(browser.app, base_url="http://127.0.0.1") as again:
        assert (
            again.post("/api/session", json={"email": "old@example.com", "password": PASSWORD}).status_code
            == 201
        )


def test_admins_set_roles_and_passwords_of_others_but_not_their_own(api, app, make_user):
    body, client = make_user("promoted@example.com", "annotator")
    assert client.post("/api/projects", json={"title": "p", "label_config": TEXT_CONFIG}).status_code == 403
    promoted = api.patch(f"/api/users/{body['id']}", json={"role": "manager"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "manager"
    assert client.post("/api/projects", json={"title": "p", "label_config": TEXT_CONFIG}).status_code == 201
    bad = api.patch(f"/api/users/{body['id']}", json={"role": "owner"})
    assert bad.status_code == 400 and "role" in bad.json()["validation_errors"]

    admin_id = api.get("/api/current-user/whoami").json()["id"]
    own_role = api.patch(f"/api/users/{admin_id}", json={"role": "annotator"})
    assert own_role.status_code == 400 and "role" in own_role.json()["validation_errors"]
    own_password = api.patch(f"/api/users/{admin_id}", json={"password": "an admin password"})
    assert own_password.status_code == 400 and "password" in own_password.json()["validation_errors"]
    assert client.patch(f"/api/users/{admin_id}", json={"role": "annotator"}).status_code == 403

    # An admin's new password for someone ends that someone's browser sessions.
    with TestClient(app, base_url="http://127.0.0.1") as browser:
        assert browser.post("/api/session", json={"token": body["token"]}).status_code == 201
        assert api.patch(f"/api/users/{body['id']}", json={"password": "set by the admin"}).status_code == 200
        assert browser.get("/api/current-user/whoami").status_code == 401
        signed_in = browser.post(
            "/api/session", json={"email": "promoted@example.com", "password": "set by the admin"}
        )
        assert signed_in.status_code == 201
    assert client.get("/api/current-user/whoami").status_code == 200  # the API key stays


def test_current_user_token_answers_the_key_as_label_studio_does(api, app, make_user):
    body, client = make_user("keyholder@example.com", "reviewer")
    shown = client.get("/api/current-user/token")
    assert shown.status_code == 200 and shown.json() == {"token": body["token"]}
    reset = client.post("/api/current-user/reset-token").json()["token"]
    with TestClient(app, headers={"Authorization": f"Token {reset}"}) as renewed:
        assert renewed.get("/api/current-user/token").json() == {"token": reset}
    # The key is stored only as a hash; the user item holds a random seed, never the key.
    from functions.store.models import TokenModel, UserModel
    from functions.store.users import token_hash

    item = UserModel.get(body["id"])
    assert item.legacy_token_hash == token_hash(reset) and reset not in (item.legacy_token_seed or "")
    assert TokenModel.get(token_hash(reset)).kind == "legacy"
    with pytest.raises(TokenModel.DoesNotExist):
        TokenModel.get(reset)
    # The installer's key was given from outside: it cannot be derived again, and the answer says so.
    given = api.get("/api/current-user/token")
    assert given.status_code == 404 and "reset it" in given.json()["detail"]
    assert ADMIN_TOKEN not in given.text
