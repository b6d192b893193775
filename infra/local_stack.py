"""The local stack: the embedded AWS emulator (moto server) with labelstack's tables and bucket.

`labelstack dev` and the end-to-end tests both use it; nothing here needs an AWS account or the internet.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

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
    from infra.delivery_pump import provision_queues

    provision_queues()


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


# The emulator and the model server answer anyone who reaches them, without credentials: whatever address
# `labelstack dev --host` gives the API and the UI, these two are never on more than this machine.
LOOPBACK = "127.0.0.1"


def default_data_dir() -> Path:
    """Where `labelstack dev` keeps its data unless told: the user's data directory (XDG's convention)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "labelstack"


def installation_secret(data_dir: Path) -> str:
    """The data directory's signing key, made once: tokens and sessions outlive a restart, and the key
    never leaves the directory (mode 0600)."""
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip()


@dataclass
class LocalStack:
    """The AWS emulator, and the store: `sqlite` (a data directory that outlives the process; a temporary
    one when none is given) or `emulator` (every table in the emulator's memory, as before the sqlite
    engine: for parity checks). The emulator stays for what has to speak an AWS API: S3 source and target
    storages and the SageMaker control plane of the built-in endpoint."""

    moto_port: int | None = None
    engine: str = "sqlite"
    data_dir: Path | None = None
    host = LOOPBACK  # not a field: no caller can move it

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
        self._server = make_server(
            self.host, self.moto_port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="labelstack-emulator", daemon=True
        )
        self._thread.start()
        endpoint = f"http://{self.host}:{self.moto_port}"
        env = dict(_FAKE_AWS_ENV, LABELSTACK_AWS_ENDPOINT_URL=endpoint)
        if self.engine == "sqlite":
            if self.data_dir is None:
                self._temporary = tempfile.TemporaryDirectory(prefix="labelstack-data-")
                self.data_dir = Path(self._temporary.name)
            env.update(
                LABELSTACK_STORE_ENGINE="sqlite",
                LABELSTACK_DATA_DIR=str(self.data_dir),
                LABELSTACK_JWT_SECRET=os.environ.get("LABELSTACK_JWT_SECRET")
                or installation_secret(self.data_dir),
            )
        else:
            # A fresh signing key per run: the emulator's data does not outlive the process either.
            env.update(
                LABELSTACK_STORE_ENGINE="dynamodb",
                LABELSTACK_JWT_SECRET=os.environ.get("LABELSTACK_JWT_SECRET") or secrets.token_hex(32),
            )
        apply_settings(env)
        provision()
        return endpoint

    def stop(self) -> None:
        server = getattr(self, "_server", None)
        if server is not None:
            server.shutdown()
            self._thread.join()
            self._server = None
        if getattr(self, "_temporary", None) is not None:
            self._temporary.cleanup()
            self._temporary = None


# The built-in model's SageMaker name in the emulator; InvokeEndpoint goes to the local model server.
BUILTIN_ENDPOINT = "labelstack-local-builtin"


def create_emulated_endpoint(
    endpoint_name: str, *, config_name: str, model_name: str, image: str = "local/ml_endpoints"
) -> None:
    """A SageMaker model, endpoint config and endpoint in the emulator (DescribeEndpoint then answers
    InService); its invocations go wherever `LABELSTACK_SAGEMAKER_RUNTIME_URL` points."""
    from functions.store.aws_clients import client

    sagemaker = client("sagemaker")
    sagemaker.create_model(
        ModelName=model_name,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/local",
        PrimaryContainer={"Image": image},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=config_name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model_name,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=config_name)


def die_with_parent() -> None:
    """In a child (the model server before its exec, a server worker at its start): the kernel sends it
    SIGTERM when its parent dies, even by `kill -9`, so no child outlives the stack that started it."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class ModelServer:
    """The built-in text classifier (`labelstack ml serve text_classifier`) as a child process.

    One server, two ways in: register its URL as an `http` ML backend, or the endpoint `BUILTIN_ENDPOINT`
    as a `sagemaker` one. The emulator knows that endpoint (DescribeEndpoint answers InService) and the
    platform's SageMaker runtime calls go to this server, which answers SageMaker's invocation path too.
    """

    port: int | None = None
    model: str = "text_classifier"
    host = LOOPBACK  # not a field, as for LocalStack

    def start(self) -> str:
        import time
        import urllib.request

        self.port = self.port or free_port(self.host)
        self._model_dir = tempfile.TemporaryDirectory(prefix="labelstack-model-")
        self._process = subprocess.Popen(  # noqa: S603 -- our own interpreter and module, no shell
            [
                sys.executable,
                "-m",
                "ml_endpoints",
                "serve",
                self.model,
                "--host",
                self.host,
                "--port",
                str(self.port),
                "--model-dir",
                self._model_dir.name,
                "--log-level",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
        self.url = f"http://{self.host}:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                # An http:// URL this process built from its own host and port.
                with urllib.request.urlopen(f"{self.url}/health", timeout=1):  # noqa: S310
                    break
            except OSError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the model server ({self.model}) did not start") from None
                time.sleep(0.1)
        # The platform may call this server although it is on loopback, and "SageMaker" is it.
        apply_settings({"LABELSTACK_ALLOWED_HOSTS": self.host, "LABELSTACK_SAGEMAKER_RUNTIME_URL": self.url})
        self._register_endpoint()
        return self.url

    @property
    def model_dir(self) -> Path:
        """Where the server reads its artifact: a new one here is served without a restart."""
        return Path(self._model_dir.name)

    def _register_endpoint(self) -> None:
        create_emulated_endpoint(
            BUILTIN_ENDPOINT,
            config_name=BUILTIN_ENDPOINT,
            model_name=BUILTIN_ENDPOINT,
            image=f"local/ml_endpoints:{self.model}",
        )

    def stop(self) -> None:
        process = getattr(self, "_process", None)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if getattr(self, "_model_dir", None) is not None:
            self._model_dir.cleanup()
            self._model_dir = None
