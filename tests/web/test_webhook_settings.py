"""Settings, Webhooks, end to end with a receiver on 127.0.0.1 (the local stack lets the server call it):
a webhook created through the form (headers and secret write-only), "Send test" arriving signed and
logged, an event it was chosen for arriving too, the active toggle and the deletion."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from functions.domain.webhook import SIGNATURE_HEADER, verify
from tests.web.conftest import create_project, screenshot, sign_in

CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="sentiment" toName="text">'
    '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>'
)
SECRET = "signing-secret-for-the-ui-test-42"
TOKEN = "Bearer receiver-credential-from-the-ui"


@pytest.fixture
def hook_receiver():
    received: list[tuple[dict, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


def test_webhook_created_tested_logged_toggled_and_deleted(page, admin_http, hook_receiver):
    url, received = hook_receiver
    project_id, [task_id] = create_project(admin_http, "Hooks", CONFIG, [{"text": "fine"}])
    sign_in(page)
    page.goto(f"/#/projects/{project_id}/settings/webhooks")
    hooks = page.get_by_test_id("webhooks")
    expect(hooks.get_by_text("No webhooks yet.")).to_be_visible()

    # The form, as Label Studio's: URL, active, headers, payload, all actions or chosen ones.
    hooks.get_by_role("button", name="Add Webhook").click()
    assert "null" not in page.locator("main").inner_text()
    hooks.get_by_label("Payload URL").fill(url)
    hooks.get_by_role("button", name="Add header").click()
    hooks.get_by_label("Header name").fill("Authorization")
    hooks.get_by_label("Header value").fill(TOKEN)
    hooks.get_by_label("Send for all actions").uncheck()
    # Organization-only actions are not offered for a project's webhook.
    expect(hooks.get_by_label("Project created")).to_have_count(0)
    hooks.get_by_label("Annotation created").check()
    hooks.get_by_label("Signing secret").fill(SECRET)
    screenshot(page, "34-webhook-form")
    hooks.get_by_role("button", name="Add Webhook").click()
    item = hooks.locator(".webhook-item")
    expect(item.locator(".webhook-url")).to_have_text(url)
    [webhook] = admin_http.get("/api/webhooks", params={"project": project_id}).json()
    assert (webhook["send_for_all_actions"], webhook["actions"]) == (False, ["ANNOTATION_CREATED"])
    assert webhook["headers"] == {"Authorization": "********"}

    # Edit: the header's value and the secret are not shown back.
    item.get_by_role("button", name="Edit").click()
    expect(hooks.get_by_label("Header name")).to_have_value("Authorization")
    expect(hooks.get_by_label("Header value")).to_have_value("")
    assert TOKEN not in page.content() and SECRET not in page.content()
    expect(hooks.get_by_label("Annotation created")).to_be_checked()

    # Send test: queued, delivered by the local stack's delivery pump, signed, with the stored header.
    hooks.get_by_role("button", name="Send test").click()
    expect(hooks.get_by_text("Test delivered: the receiver answered 200.")).to_be_visible(timeout=30_000)
    log = hooks.get_by_test_id("deliveries")
    expect(log.locator("tr[data-status=delivered]", has_text="WEBHOOK_TEST")).to_have_count(1)
    [(headers, body)] = received
    assert verify(SECRET, body, headers[SIGNATURE_HEADER.lower()])
    assert headers["authorization"] == TOKEN
    sent = json.loads(body)
    assert sent["action"] == "WEBHOOK_TEST" and sent["webhook"]["id"] == webhook["id"]

    # The event it was chosen for: an annotation, from the stream through the queue, into the log.
    result = [
        {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
    ]
    assert admin_http.post(f"/api/tasks/{task_id}/annotations", json={"result": result}).status_code == 201
    refresh = hooks.get_by_role("button", name="Refresh")
    created = log.locator("tr[data-status=delivered]", has_text="ANNOTATION_CREATED")
    for _ in range(60):
        refresh.click()
        if created.count():
            break
        page.wait_for_timeout(500)
    expect(created).to_have_count(1)
    assert [json.loads(b)["action"] for _, b in received] == ["WEBHOOK_TEST", "ANNOTATION_CREATED"]
    screenshot(page, "35-webhook-deliveries")

    # Saving without touching the header keeps its value (the form sends the mask back).
    hooks.get_by_label("Send payload").uncheck()
    hooks.get_by_role("button", name="Save").click()
    expect(item.locator(".webhook-url")).to_have_text(url)
    saved = admin_http.get(f"/api/webhooks/{webhook['id']}").json()
    assert saved["send_payload"] is False and saved["headers"] == {"Authorization": "********"}

    # The list's toggle deactivates it; Delete removes it.
    item.get_by_label(f"Active: {url}").uncheck()
    for _ in range(20):  # the PATCH the toggle sends
        if admin_http.get(f"/api/webhooks/{webhook['id']}").json()["is_active"] is False:
            break
        page.wait_for_timeout(200)
    assert admin_http.get(f"/api/webhooks/{webhook['id']}").json()["is_active"] is False
    screenshot(page, "36-webhook-list")
    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Delete").click()
    expect(hooks.get_by_text("No webhooks yet.")).to_be_visible()
    assert admin_http.get("/api/webhooks", params={"project": project_id}).json() == []
