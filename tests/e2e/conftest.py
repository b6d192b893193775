"""`labelstack dev` as a real process (moto server inside), for clients that speak HTTP to it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import httpx
import pytest

from infra.local_stack import free_port

E2E_TOKEN = "e2e-admin-token-0123456789"


@pytest.fixture(scope="session")
def local_stack(_local_stack_process):
    """The base URL of a running `labelstack dev`."""
    return _local_stack_process[0]


@pytest.fixture(scope="session")
def local_stack_banner(_local_stack_process) -> dict[str, str]:
    """What `labelstack dev` printed when it started, as `{"url": ..., "ml backend": ...}`."""
    return _local_stack_process[1]


def dev_command(data_dir) -> list[str]:
    """`labelstack dev` on the engine the suite runs on, with its data in a directory of the test run's."""
    from tests.conftest import ENGINE

    engine = ["--engine", "emulator"] if ENGINE == "dynamodb" else ["--data-dir", str(data_dir)]
    return [sys.executable, "-m", "infra.cli", "dev", *engine]


def stop_dev(process: subprocess.Popen) -> None:
    """Ctrl-C, as a user stops it; killed if it has not stopped within 20 s."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_dev(data_dir, **settings: str):
    """`labelstack dev` as a process on a free port, with `settings` in its environment (such as
    `LABELSTACK_ML_SYNC_PREDICT_LIMIT="8"`); yields `(url, banner)`. Ctrl-C must stop everything it
    started."""
    port = free_port()
    env = dict(os.environ, LABELSTACK_ADMIN_TOKEN=E2E_TOKEN, PYTHONUNBUFFERED="1", **settings)
    env.pop("LABELSTACK_AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [*dev_command(data_dir), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"labelstack dev exited early:\n{process.stdout.read()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("labelstack dev did not start within 60 s")
    banner = {}
    for line in process.stdout:  # printed before the server starts answering
        key, _, value = line.strip().partition(": ")
        if value:
            banner[key.strip()] = value.strip()
        if line.startswith("Ctrl-C stops it."):
            break
    yield url, banner
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("labelstack dev did not stop on SIGINT") from None


@pytest.fixture(scope="session")
def _local_stack_process(tmp_path_factory):
    with running_dev(tmp_path_factory.mktemp("data")) as started:
        yield started
