"""The local stack: the embedded AWS emulator (moto server) with labelstack's tables and bucket.

`labelstack dev` and the end-to-end tests both use it; nothing here needs an AWS account or the internet.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from dataclasses import dataclass

# moto's server answers any credentials; real ones must never be needed (or sent) locally.
_FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "labelstack-local",
    "AWS_SECRET_ACCESS_KEY": "labelstack-local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def apply_settings(env: dict[str, str]) -> None:
    """Put `env` into the process environment and make already-imported modules re-read it."""
    os.environ.update(env)
    from functions.settings import get_settings
    from functions.store import aws_clients, models

    get_settings.cache_clear()
    aws_clients.client.cache_clear()
    models.configure()


def provision() -> None:
    """Create every table from the PynamoDB models, and the files bucket."""
    from functions.settings import get_settings
    from functions.store.aws_clients import client
    from functions.store.models import create_tables

    create_tables()
    s3 = client("s3")
    bucket = get_settings().files_bucket
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)


class _OneRequestAtATime:
    """WSGI wrapper applying one emulator request at a time.

    moto evaluates a conditional write and then applies it without a lock, so two threads can both pass
    the same condition; DynamoDB makes each write atomic. Leases and counters rely on that, so the
    emulator must too. (moto is bound by the GIL anyway; this costs little throughput.)
    """

    def __init__(self, app):
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self._lock:
            return list(self._app(environ, start_response))


@dataclass
class LocalStack:
    host: str = "127.0.0.1"
    moto_port: int | None = None

    def start(self) -> str:
        import logging

        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            create_backend_app,
        )
        from moto.server import MotoRequestHandler
        from werkzeug.serving import make_server

        # The emulator's request log would drown the API's own output.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

        self.moto_port = self.moto_port or free_port(self.host)
        app = _OneRequestAtATime(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self.host, self.moto_port, app, threaded=True,
                                   request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="labelstack-emulator",
                                        daemon=True)
        self._thread.start()
        endpoint = f"http://{self.host}:{self.moto_port}"
        env = dict(_FAKE_AWS_ENV, LABELSTACK_AWS_ENDPOINT_URL=endpoint)
        # A fresh signing key per run: the emulator's data does not outlive the process either.
        env.setdefault("LABELSTACK_JWT_SECRET", os.environ.get("LABELSTACK_JWT_SECRET") or secrets.token_hex(32))
        apply_settings(env)
        provision()
        return endpoint

    def stop(self) -> None:
        server = getattr(self, "_server", None)
        if server is not None:
            server.shutdown()
            self._thread.join()
            self._server = None
