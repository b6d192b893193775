"""Browser tests of the web UI: Debian's chromium driven by Playwright against a real `labelstack dev`.

The session installs what is missing (chromium through apt, the Label Studio Frontend through `npm ci`)
and reuses the e2e fixtures that start `labelstack dev` as a process on a free port.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e import conftest as e2e

# `labelstack dev` as a real process on a free port: the e2e suite's fixtures, shared.
local_stack = e2e.local_stack
local_stack_banner = e2e.local_stack_banner
_local_stack_process = e2e._local_stack_process

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
ARTIFACTS = ROOT / "test-artifacts" / "web"
CHROMIUM = Path("/usr/bin/chromium")
# Flags for headless chromium in a container (no sandbox user namespace, no GPU, no calls home).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_TOKEN = e2e.E2E_TOKEN


@pytest.fixture(scope="session")
def web_installed():
    """Chromium and the web UI's npm dependencies, installed when absent."""
    if not CHROMIUM.exists():
        if shutil.which("apt-get") is None:
            pytest.fail("chromium is missing and apt-get is not available to install it")
        subprocess.run(["apt-get", "update"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "chromium"], check=True, capture_output=True)
    if not (WEB / "node_modules").is_dir() or not (WEB / "vendor" / "label-studio" / "main.js").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True, capture_output=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def browser(web_installed):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright's own browser download is never used: its driver runs Debian's chromium.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Expected:
    """What a test provokes on purpose: the only failed responses, cancelled requests and console errors
    its page may have. Everything else fails the test (see the `page` fixture). Each allowance is stated,
    with why, by the test that provokes it."""

    def __init__(self) -> None:
        self.responses: list[tuple[int, re.Pattern[str]]] = []
        self.cancelled: list[re.Pattern[str]] = []
        self.console: list[re.Pattern[str]] = []

    def response(self, status: int, url: str) -> None:
        """A response of `status` from a URL that the regex `url` finds a match in (and its console line)."""
        self.responses.append((status, re.compile(url)))

    def cancel(self, url: str) -> None:
        """A request to a URL that the regex `url` matches, cancelled while it loads (net::ERR_ABORTED)."""
        self.cancelled.append(re.compile(url))

    def console_error(self, text: str) -> None:
        """A console error whose text the regex `text` matches."""
        self.console.append(re.compile(text))

    def allows_response(self, status: int, url: str) -> bool:
        return any(status == s and pattern.search(url) for s, pattern in self.responses)

    def allows_failed_request(self, url: str, failure: str | None) -> bool:
        return failure == "net::ERR_ABORTED" and any(pattern.search(url) for pattern in self.cancelled)

    def allows_console(self, text: str, url: str) -> bool:
        # Chrome logs every failed response once more, as a console error located at its URL.
        failed = re.match(r"Failed to load resource: the server responded with a status of (\d+)", text)
        if failed and self.allows_response(int(failed.group(1)), url):
            return True
        return any(pattern.search(text) for pattern in self.console)


# Label Studio's /next answers 404 when the user's queue is empty (the page then shows "All done"): a test
# that labels a queue to its end provokes it.
END_OF_QUEUE = (404, r"/api/projects/\d+/next$")


@pytest.fixture
def expected() -> Expected:
    return Expected()


@pytest.fixture
def page(browser, local_stack, request, expected):
    """A fresh browser context (no cookies) at the UI. Page errors, console errors and failed requests
    fail the test, but for those it declares through `expected` (see Expected).

    The page's last state is kept as `last-<test>.png`, to see where a failing test stopped."""
    context = browser.new_context(base_url=local_stack, viewport={"width": 1280, "height": 860})
    page = context.new_page()
    problems: list[str] = []

    def on_console(message) -> None:
        url = message.location.get("url", "")
        if message.type == "error" and not expected.allows_console(message.text, url):
            problems.append(f"console error: {message.text} ({url})")

    def on_response(response) -> None:
        if response.status >= 400 and not expected.allows_response(response.status, response.url):
            problems.append(f"{response.status} from {response.request.method} {response.url}")

    def on_request_failed(request) -> None:
        if not expected.allows_failed_request(request.url, request.failure):
            problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on("console", on_console)
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    page.set_default_timeout(15_000)
    yield page
    page.screenshot(path=str(ARTIFACTS / f"last-{request.node.name}.png"), full_page=True)
    found = list(problems)  # before closing, which cancels whatever is still loading
    context.close()
    assert not found, "the page logged errors or had failed requests:\n" + "\n".join(found)


@pytest.fixture
def admin_http(local_stack):
    with httpx.Client(
        base_url=local_stack, headers={"Authorization": f"Token {ADMIN_TOKEN}"}, timeout=30
    ) as c:
        yield c


def screenshot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, token: str = ADMIN_TOKEN) -> None:
    """Sign in with an API token (the sign-in page's second form)."""
    page.goto("/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in with token").click()
    page.get_by_role("heading", name="Projects").wait_for()


def sign_in_with_password(page, email: str, password: str) -> None:
    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="Projects").wait_for()


def create_project(
    http: httpx.Client, title: str, label_config: str, tasks: list[dict], **settings
) -> tuple[int, list[int]]:
    response = http.post("/api/projects", json={"title": title, "label_config": label_config, **settings})
    assert response.status_code == 201, response.text
    project_id = response.json()["id"]
    response = http.post(f"/api/projects/{project_id}/import?return_task_ids=true", json=tasks)
    assert response.status_code == 201, response.text
    return project_id, response.json()["task_ids"]
