"""Browser sessions and security headers against the real app in-process (moto): the rules behind the UI."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_TOKEN

INDEX_HTML = Path(__file__).resolve().parents[2] / "web" / "index.html"
META_POLICY = r'http-equiv="Content-Security-Policy" content="([^"]+)"'


@pytest.fixture
def browser_client(app, admin):
    """A cookie-keeping client on a loopback host, as the browser is under `labelstack dev`."""
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def _sign_in(client, token=ADMIN_TOKEN):
    return client.post("/api/session", json={"token": token})


def test_sign_in_sets_an_httponly_samesite_cookie_and_returns_the_csrf_token(browser_client):
    response = _sign_in(browser_client)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"]["email"] == "admin@example.com"
    assert re.fullmatch(r"[0-9a-f]{64}", body["csrf_token"])
    cookie = response.headers["set-cookie"]
    assert "labelstack_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # loopback
    assert browser_client.get("/api/session").json()["csrf_token"] == body["csrf_token"]
    assert browser_client.get("/api/current-user/whoami").json()["email"] == "admin@example.com"


def test_the_cookie_is_secure_outside_localhost(app, admin):
    with TestClient(app, base_url="https://labels.example.com") as client:
        assert "Secure" in _sign_in(client).headers["set-cookie"]


def test_sign_in_refuses_a_wrong_token_and_a_non_json_body(browser_client):
    assert _sign_in(browser_client, "not-a-token").status_code == 401
    form = browser_client.post("/api/session", data={"token": ADMIN_TOKEN})
    assert form.status_code == 400
    assert "token" in form.json()["validation_errors"]
    missing = browser_client.post("/api/session", json={})
    assert missing.status_code == 400 and "token" in missing.json()["validation_errors"]
    assert "set-cookie" not in form.headers


def test_unsafe_methods_with_the_cookie_need_the_csrf_header(browser_client):
    csrf = _sign_in(browser_client).json()["csrf_token"]
    project = {"title": "p", "label_config": '<View><Text name="t" value="$t"/></View>'}
    assert browser_client.post("/api/projects", json=project).status_code == 403
    assert (
        browser_client.post("/api/projects", json=project, headers={"X-CSRF-Token": "x" * 64}).status_code
        == 403
    )
    created = browser_client.post("/api/projects", json=project, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201
    # An Authorization header wins over the cookie and needs no CSRF token.
    assert (
        browser_client.post(
            "/api/projects", json=project, headers={"Authorization": f"Token {ADMIN_TOKEN}"}
        ).status_code
        == 201
    )


def test_sessions_are_stored_hashed_and_sign_out_revokes(browser_client):
    from functions.store.models import TokenModel
    from functions.store.users import token_hash

    csrf = _sign_in(browser_client).json()["csrf_token"]
    value = browser_client.cookies["labelstack_session"]
    stored = TokenModel.get(token_hash(value))
    assert stored.kind == "session" and stored.expires_at is not None
    with pytest.raises(TokenModel.DoesNotExist):
        TokenModel.get(value)

    assert browser_client.delete("/api/session").status_code == 403  # no CSRF token
    signed_out = browser_client.delete("/api/session", headers={"X-CSRF-Token": csrf})
    assert signed_out.status_code == 204
    with pytest.raises(TokenModel.DoesNotExist):
        TokenModel.get(token_hash(value))
    browser_client.cookies.set("labelstack_session", value)
    assert browser_client.get("/api/projects").status_code == 401


def test_an_expired_or_altered_session_is_refused(browser_client, monkeypatch):
    from functions.api import sessions

    _sign_in(browser_client)
    value = browser_client.cookies["labelstack_session"]
    expiry, _, secret = value.partition(".")
    # Pushing the expiry in the value back changes its hash: nothing stored matches.
    browser_client.cookies.set("labelstack_session", f"{int(expiry) + 10**6}.{secret}")
    assert browser_client.get("/api/projects").status_code == 401
    browser_client.cookies.set("labelstack_session", value)
    assert browser_client.get("/api/projects").status_code == 200

    later = sessions.utcnow() + timedelta(hours=337)
    monkeypatch.setattr(sessions, "utcnow", lambda: later)
    expired = browser_client.get("/api/projects")
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]


def test_every_response_carries_the_security_headers(api):
    from functions.api.middleware import CONTENT_SECURITY_POLICY

    for response in (
        api.get("/api/projects"),
        api.get("/api/nothing-here"),
        api.post("/api/projects", content=b"x" * 10, headers={"content-length": str(10**10)}),
    ):
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY


def test_the_pages_meta_policy_is_the_header_policy_but_frame_ancestors():
    from functions.api.middleware import CONTENT_SECURITY_POLICY

    meta = re.search(META_POLICY, INDEX_HTML.read_text()).group(1)
    assert meta == CONTENT_SECURITY_POLICY.replace("; frame-ancestors 'none'", "")


def test_the_session_probe_answers_without_an_error_when_there_is_no_session(browser_client):
    # The page asks before it knows: "no session" is a 200, not a 401 in the browser's console.
    nobody = browser_client.get("/api/session")
    assert nobody.status_code == 200 and nobody.json() == {"user": None}
    _sign_in(browser_client)
    value = browser_client.cookies["labelstack_session"]
    expiry, _, secret = value.partition(".")
    browser_client.cookies.set("labelstack_session", f"{expiry}.{secret}x")  # a session that does not exist
    dead = browser_client.get("/api/session")
    assert dead.status_code == 200 and dead.json() == {
        "user": None,
        "detail": "Session is invalid or signed out.",
    }
    assert 'labelstack_session=""' in dead.headers["set-cookie"]  # the dead cookie is cleared
    assert browser_client.get("/api/projects").status_code == 401  # everything else still refuses it


def test_a_local_stacks_policy_adds_its_emulators_origin_to_images_and_media_only():
    from functions.api.middleware import CONTENT_SECURITY_POLICY, content_security_policy, origin_of

    emulator = origin_of("http://127.0.0.1:4566/bucket/key?X-Amz-Signature=abc")
    assert emulator == "http://127.0.0.1:4566"
    local = content_security_policy((emulator,))
    directives = dict(d.strip().split(" ", 1) for d in local.split(";"))
    assert directives["img-src"] == "'self' data: blob: https: http://127.0.0.1:4566"
    assert directives["media-src"] == "'self' blob: https: http://127.0.0.1:4566"
    # Media is fetched too: the Label Studio Frontend's <Audio> downloads its file for the waveform.
    assert directives["connect-src"] == "'self' https: http://127.0.0.1:4566"
    assert local.count(emulator) == 3
    assert local.replace(" http://127.0.0.1:4566", "") == CONTENT_SECURITY_POLICY
    with pytest.raises(ValueError, match="not an http"):
        origin_of("s3://bucket/key")


def test_labelstack_dev_serves_index_html_with_the_apps_policy_in_its_meta(tmp_path):
    from fastapi.testclient import TestClient
    from starlette.applications import Starlette

    from functions.api.middleware import content_security_policy
    from infra.web_files import WebFiles

    (tmp_path / "index.html").write_text(INDEX_HTML.read_text())
    (tmp_path / "app.css").write_text("body {}")
    policy = content_security_policy(("http://127.0.0.1:4566",))
    site = Starlette()
    site.mount("/", WebFiles(tmp_path, policy))
    with TestClient(site) as client:
        for path in ("/", "/index.html"):
            meta = re.search(META_POLICY, client.get(path).text)
            assert meta.group(1) == policy.replace("; frame-ancestors 'none'", ""), path
        assert client.get("/app.css").text == "body {}"
