"""Shared fixtures: AWS through moto's in-process `mock_aws`, HTTP through the real FastAPI app."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

# Before any labelstack module reads its settings: no real AWS, ever.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "LABELSTACK_JWT_SECRET": "test-signing-key-that-is-long-enough-for-hs256",
    }
)
os.environ.pop("LABELSTACK_AWS_ENDPOINT_URL", None)

import pytest
from moto import mock_aws

ADMIN_TOKEN = "admin-test-token"


# Which store engine the tests run on: `sqlite` (the default, what `labelstack dev` runs) or `dynamodb`
# (moto's DynamoDB, what AWS runs); `make check` runs the store and API suites on both.
ENGINE = os.environ.get("LABELSTACK_TEST_ENGINE", "sqlite")


@pytest.fixture
def engine() -> str:
    """The store engine of `aws`; tests/store overrides it to run the store's contract on both."""
    return ENGINE


@contextmanager
def _dynamodb_requests_one_at_a_time():
    """DynamoDB applies each request atomically (a conditional write or an ADD never interleaves with
    another on the same item); moto in-process runs threads' requests through the same Python objects at
    once. Handling moto's DynamoDB requests one at a time gives the tests what DynamoDB guarantees, so
    the races of many threads are tested on both engines."""
    from moto.core.botocore_stubber import BotocoreStubber

    real = BotocoreStubber.process_request
    lock = threading.Lock()

    def one_at_a_time(self, request):
        if "//dynamodb." not in request.url:
            return real(self, request)  # e.g. SQS long polls must not hold the others back
        with lock:
            return real(self, request)

    BotocoreStubber.process_request = one_at_a_time
    try:
        yield
    finally:
        BotocoreStubber.process_request = real


@pytest.fixture
def aws(tmp_path, engine):
    """A fresh store on the engine under test, the files bucket and the queues; the rest of AWS in moto."""
    from functions.store import page_bookmarks
    from infra.local_stack import apply_settings, provision

    env = {"LABELSTACK_STORE_ENGINE": engine, "LABELSTACK_DATA_DIR": str(tmp_path / "data")}
    saved = {name: os.environ.get(name) for name in env}
    with mock_aws(), _dynamodb_requests_one_at_a_time():
        apply_settings(env)
        provision()
        page_bookmarks.forget_all()  # ids start again in a fresh store
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            apply_settings({})


@pytest.fixture
def admin(aws):
    from functions.services import identity

    user, _ = identity.ensure_admin("admin@example.com", ADMIN_TOKEN)
    return user


@pytest.fixture
def app(aws):
    from functions.api.app import create_app

    return create_app()


@pytest.fixture
def api(app, admin):
    """An HTTP client for the real app, signed in as the admin."""
    from fastapi.testclient import TestClient

    with TestClient(app, headers={"Authorization": f"Token {ADMIN_TOKEN}"}) as client:
        yield client


@pytest.fixture
def make_user(api):
    """Create a user with a role through the API; returns (user json, an HTTP client signed in as them)."""
    from fastapi.testclient import TestClient

    clients = []

    def make(email: str, role: str):
        response = api.post("/api/users", json={"email": email, "role": role})
        assert response.status_code == 201, response.text
        body = response.json()
        client = TestClient(api.app, headers={"Authorization": f"Token {body['token']}"})
        clients.append(client)
        return body, client

    yield make
    for client in clients:
        client.close()
