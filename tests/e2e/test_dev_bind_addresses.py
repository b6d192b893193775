"""`labelstack dev --host` moves the API and UI only: the AWS emulator and the model server, which answer
without credentials, stay on 127.0.0.1.

The process is started with `--host 127.0.0.2`: an address other than 127.0.0.1 tells whether a listener
followed --host, without putting anything on a network interface during the test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from infra.local_stack import free_port
from tests.e2e.conftest import dev_command, stop_dev

_LISTEN = "0A"


def _listening_addresses(port: int) -> set[str]:
    """The IPv4 addresses with a listening TCP socket on `port`, from the kernel's socket table."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, _, hex_port = fields[1].partition(":")
        if fields[3] == _LISTEN and int(hex_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def test_only_the_api_follows_host(tmp_path):
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("LABELSTACK_AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [*dev_command(tmp_path), "--host", "127.0.0.2", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                if httpx.get(f"http://127.0.0.2:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "labelstack dev did not start within 60 s"
                time.sleep(0.2)
        banner = {}
        for line in process.stdout:
            key, _, value = line.strip().partition(": ")
            banner[key.strip()] = value.strip()
            if line.startswith("Ctrl-C stops it."):
                break
        emulator = urlsplit(banner["aws emulator"])
        model_server = urlsplit(banner["ml backend"].split()[0])

        assert _listening_addresses(port) == {"127.0.0.2"}
        assert emulator.hostname == "127.0.0.1"
        assert _listening_addresses(emulator.port) == {"127.0.0.1"}
        assert model_server.hostname == "127.0.0.1"
        assert _listening_addresses(model_server.port) == {"127.0.0.1"}
    finally:
        stop_dev(process)
