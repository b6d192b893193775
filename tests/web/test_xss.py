"""Task data, configs, titles and instructions holding script payloads: labeling such a task runs none of
them."""

from __future__ import annotations

import pytest

from tests.web.conftest import END_OF_QUEUE, create_project, screenshot, sign_in


def _payloads(tag: str) -> str:
    # Each payload reports through an exposed binding (`pwned`) and a global, from any frame.
    call = f"window.top.__pwned='{tag}';window.top.pwned('{tag}')"
    return (
        f'<script>{call}</script><img src=x onerror="{call}"><svg onload="{call}"></svg>'
        f'<iframe srcdoc="<script>{call}</script>"></iframe><a href="javascript:{call}">link {tag}</a>'
    )


CONFIG = """<View>
  <Header value="&lt;img src=x onerror=&quot;window.top.pwned('config')&quot;&gt;"/>
  <HyperText name="html" value="$html"/>
  <Text name="text" value="$text"/>
  <Choices name="verdict" toName="text"><Choice value="Safe"/><Choice value="Unsafe"/></Choices>
</View>"""


def _strip_csp_header(route):
    response = route.fetch()
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-security-policy"}
    route.fulfill(response=response, headers=headers)


# The Label Studio Frontend renders <HyperText> as HTML in a srcdoc frame: without a CSP its payloads run
# (measured: all six fire). "meta only" is a host that serves web/ without our headers (S3 + CloudFront):
# index.html's <meta> policy must hold alone.
@pytest.mark.parametrize("policy_from", ["header and meta", "meta only"])
def test_script_payloads_in_a_task_never_execute(page, admin_http, policy_from, expected):
    # Provoked on purpose: each payload's <img src=x> (loaded, its onerror gone or refused) is a 404, and
    # the Content-Security-Policy logs each inline handler, script and javascript: URL it refuses (Chrome
    # logs handlers even when DOMPurify parses them, in a document that never runs them).
    expected.response(404, r"/x$")
    expected.cancel(r"/x$")  # the same images, when the view that holds them goes first
    expected.response(*END_OF_QUEUE)  # its one task labeled, the stream ends
    expected.console_error(r"^Executing inline event handler violates the following Content Security Policy")
    expected.console_error(r"^Refused to execute inline script because it violates")
    expected.console_error(r"^Running the JavaScript URL violates the following Content Security Policy")
    fired: list[str] = []
    page.context.expose_binding("pwned", lambda source, what: fired.append(what))
    if policy_from == "meta only":
        page.route("**/*", _strip_csp_header)
    project_id, (task_id,) = create_project(
        admin_http,
        '<img src=x onerror="pwned(1)">',
        CONFIG,
        [{"html": _payloads("hypertext"), "text": _payloads("text")}],
        expert_instruction=_payloads("instructions"),
        show_instruction=True,
    )

    sign_in(page)
    page.get_by_role("link", name='<img src=x onerror="pwned(1)">').first.wait_for()  # the title, as text
    page.goto(f"/#/projects/{project_id}")
    page.get_by_test_id("task-table").get_by_text("<script>", exact=False).first.wait_for()
    if policy_from != "meta only":
        screenshot(page, "11-xss-data-manager")

    page.goto(f"/#/projects/{project_id}/label")
    # The instructions render as HTML, sanitized: the link's text stays, every script and handler goes.
    instructions = page.get_by_test_id("instructions")
    instructions.get_by_text("link instructions").wait_for()
    markup = instructions.inner_html()
    assert not any(
        bad in markup for bad in ("<script", "onerror", "onload", "javascript:", "<iframe", "<svg")
    )
    page.get_by_role("button", name="Start labeling").click()
    page.locator(".lsf-root label", has_text="Safe").first.click()
    links = [frame.get_by_text("link hypertext") for frame in page.frames]
    visible = [link for link in links if link.count() and link.first.is_visible()]
    assert visible, "the HyperText's link is not rendered"
    visible[0].first.click()  # a javascript: URL
    if policy_from != "meta only":
        screenshot(page, "12-xss-label")
    page.get_by_role("button", name="submit", exact=True).click()
    page.get_by_test_id("no-more-tasks").wait_for()
    page.wait_for_timeout(500)  # time for an image's onerror to fire, were it allowed to

    annotations = admin_http.get(f"/api/tasks/{task_id}/annotations").json()
    assert [a["result"][0]["value"]["choices"] for a in annotations] == [["Safe"]]
    assert fired == []
    assert all(frame.evaluate("typeof window.top.__pwned") == "undefined" for frame in page.frames)
    # The binding itself works: had a payload run, it would have been recorded.
    page.evaluate("window.pwned('control')")
    assert fired == ["control"]
