"""A project's instructions: written in HTML, shown sanitized, before labeling (when the project asks for
it, as Label Studio does) and from the label stream at any time. Script payloads in them stay inert."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.conftest import create_project, screenshot, sign_in

CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="c" toName="text" choice="single">'
    '<Choice value="Yes"/><Choice value="No"/></Choices></View>'
)
# Each payload would set a global and call an exposed binding, and alert(): none of it may happen.
RUN = "window.__pwned = 'instructions'; window.pwned('instructions'); alert('instructions')"
INSTRUCTIONS = (
    "<h3>How to label</h3><p>Answer <b>bold</b> questions first.</p>"
    f'<script>{RUN}</script><img src=x onerror="{RUN}"><svg onload="{RUN}"></svg>'
    f'<p><a href="javascript:{RUN}">a trap</a> and <a href="https://example.com/guide">the guide</a></p>'
)


def test_instructions_show_as_sanitized_html_before_labeling_and_on_demand(page, admin_http, expected):
    # Provoked on purpose: the payload's <img src=x> is kept, without its onerror, and loads nothing (404;
    # cancelled when its dialog closes first). Chrome reports the inline handler when DOMPurify parses it,
    # in a document that never runs it, as a refusal by the Content-Security-Policy.
    expected.response(404, r"/x$")
    expected.cancel(r"/x$")
    expected.console_error(r"^Executing inline event handler violates the following Content Security Policy")
    fired: list[str] = []
    page.context.expose_binding("pwned", lambda source, what: fired.append(what))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    project_id, _ = create_project(
        admin_http,
        "Instructed",
        CONFIG,
        [{"text": "first"}, {"text": "second"}],
        expert_instruction=INSTRUCTIONS,
        show_instruction=True,
    )
    sign_in(page)

    # Before labeling: the markup renders (no "<p>" on screen), bold is bold, the payloads are gone.
    page.goto(f"/#/projects/{project_id}/label")
    shown = page.get_by_test_id("instructions")
    expect(shown).to_be_visible()
    assert shown.evaluate("d => d.open && d.matches(':modal')")
    bold = shown.locator("b", has_text="bold")
    assert int(bold.evaluate("b => getComputedStyle(b).fontWeight")) >= 700
    text = shown.inner_text()
    assert "How to label" in text and "<p>" not in text and "<b>" not in text
    markup = shown.inner_html()
    assert not any(bad in markup for bad in ("<script", "onerror", "onload", "javascript:", "<svg"))
    guide = shown.get_by_role("link", name="the guide")
    assert guide.get_attribute("target") == "_blank" and "noopener" in guide.get_attribute("rel")
    screenshot(page, "13-instructions-before-labeling")
    page.get_by_role("button", name="Start labeling").click()
    expect(shown).to_have_count(0)

    # Labeling goes on; the instructions are one click away, and close again.
    first = page.get_by_test_id("task-heading").get_attribute("data-task")
    page.locator(".lsf-root label", has_text="Yes").first.click()
    page.get_by_role("button", name="submit", exact=True).click()
    expect(page.get_by_test_id("task-heading")).not_to_have_attribute("data-task", first)
    page.get_by_role("button", name="Show instructions").click()
    expect(shown.locator("b", has_text="bold")).to_be_visible()
    screenshot(page, "14-instructions-on-demand")
    page.get_by_role("button", name="Close").click()
    expect(shown).to_have_count(0)

    assert admin_http.get(f"/api/tasks/{first}/annotations").json()[0]["result"][0]["value"] == {
        "choices": ["Yes"]
    }
    page.wait_for_timeout(300)  # time for an image's onerror to fire, were it kept
    assert fired == [] and dialogs == []
    assert page.evaluate("typeof window.__pwned") == "undefined"
    page.evaluate("window.pwned('control')")  # the binding works: a payload that ran would have been seen
    assert fired == ["control"]


def test_without_instructions_there_is_no_button_and_no_dialog(page, admin_http):
    project_id, _ = create_project(admin_http, "Plain", CONFIG, [{"text": "only"}], show_instruction=True)
    sign_in(page)
    page.goto(f"/#/projects/{project_id}/label")
    page.get_by_role("button", name="submit", exact=True).wait_for()
    assert page.get_by_role("button", name="Show instructions").count() == 0
    assert page.get_by_test_id("instructions").count() == 0
