"""Browser tests of the web UI: Debian's chromium driven by Playwright against a real `labelstack dev`.

The session installs what is missing (chromium through apt, the Label Studio Frontend through `npm ci`)
and reuses the e2e fixtures that start `labelstack dev` as a process on a free port.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e import conftest as e2e

# `labelstack dev` as a real process on a free port: the e2e suite's fixtures, shared.
local_stack = e2e.local_stack
_local_stack_process = e2e._local_stack_process

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
ARTIFACTS = ROOT / "test-artifacts" / "web"
CHROMIUM = Path("/usr/bin/chromium")
# Flags for headless chromium in a container (no sandbox user namespace, no GPU, no calls home).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
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


@pytest.fixture
def page(browser, local_stack, request):
    """A fresh browser context (no cookies) at the UI; page errors fail the test.

    The page's last state is kept as `last-<test>.png`, to see where a failing test stopped."""
    context = browser.new_context(base_url=local_stack, viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(15_000)
    yield page
    page.screenshot(path=str(ARTIFACTS / f"last-{request.node.name}.png"), full_page=True)
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def admin_http(local_stack):
    with httpx.Client(base_url=local_stack, headers={"Authorization": f"Token {ADMIN_TOKEN}"}, timeout=30) as c:
        yield c


def screenshot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, token: str = ADMIN_TOKEN) -> None:
    page.goto("/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Projects").wait_for()


def create_project(http: httpx.Client, title: str, label_config: str, tasks: list[dict], **settings) -> tuple[int, list[int]]:
    response = http.post("/api/projects", json={"title": title, "label_config": label_config, **settings})
    assert response.status_code == 201, response.text
    project_id = response.json()["id"]
    response = http.post(f"/api/projects/{project_id}/import?return_task_ids=true", json=tasks)
    assert response.status_code == 201, response.text
    return project_id, response.json()["task_ids"]
