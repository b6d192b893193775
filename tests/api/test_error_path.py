"""One error path: an exception nothing handled is a Label Studio-shaped 500 with a request id that is
also in the log, a busy or unreachable store is a 503 with Retry-After, and neither drops the client's
kept-alive connection (checked against a real uvicorn server on 127.0.0.1)."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

import httpx
import pytest
import uvicorn
from botocore.exceptions import ClientError, EndpointConnectionError
from fastapi import Request
from fastapi.testclient import TestClient
from pydantic import BaseModel
from pynamodb.exceptions import GetError

from infra.local_stack import free_port


class Note(BaseModel):
    text: str
    weight: float = 1.0


FAILURES = {
    "runtime": lambda: RuntimeError("boom"),
    "throttled": lambda: ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "Query"
    ),
    "throughput": lambda: GetError(
        "Failed to get item",
        ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "GetItem"
        ),
    ),
    "s3_down": lambda: ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "x"}}, "GetObject"),
    "locked": lambda: sqlite3.OperationalError("database is locked"),
    "unreachable": lambda: EndpointConnectionError(endpoint_url="https://dynamodb.example"),
    "validation": lambda: ClientError({"Error": {"Code": "ValidationException", "Message": "x"}}, "PutItem"),
}


@pytest.fixture
def test_app(app):
    """The product's app plus routes only these tests have: one raising each failure, one naming the
    client's port (to tell one connection from another), one whose body FastAPI parses into a model."""

    def fail(kind: str):
        raise FAILURES[kind]()

    def peer(request: Request):
        return {"port": request.client.port if request.client else None}

    def note(body: Note):
        return {"text": body.text, "weight": body.weight}

    app.add_api_route("/test/fail/{kind}", fail, methods=["GET"])
    app.add_api_route("/test/peer", peer, methods=["GET"])
    app.add_api_route("/test/note", note, methods=["POST"])
    return app


@pytest.fixture
def served(test_app):
    """`test_app` under uvicorn on 127.0.0.1, in a thread of this process; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(test_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_a_500_keeps_the_connection_and_its_id_is_logged(served, caplog):
    with httpx.Client(base_url=served, limits=httpx.Limits(max_connections=1)) as client:
        before = client.get("/test/peer").json()["port"]
        with caplog.at_level(logging.ERROR, logger="functions.api.errors"):
            failed = client.get("/test/fail/runtime")
        after = client.get("/test/peer")
        again = client.get("/health")
    assert failed.status_code == 500
    body = failed.json()
    assert body["status_code"] == 500 and body["detail"] == "Internal server error"
    assert set(body) >= {"id", "status_code", "version", "detail", "exc_info"}
    assert failed.headers.get("connection", "").lower() != "close"
    # The next requests went over the same connection: the server did not drop it.
    assert after.status_code == 200 and after.json()["port"] == before
    assert again.status_code == 200
    [record] = [r for r in caplog.records if body["id"] in r.getMessage()]
    assert record.exc_info and isinstance(record.exc_info[1], RuntimeError)


@pytest.mark.parametrize("kind", ["throttled", "throughput", "s3_down", "locked", "unreachable"])
def test_a_busy_or_unreachable_store_is_a_503_with_retry_after(test_app, kind):
    with TestClient(test_app) as client:
        response = client.get(f"/test/fail/{kind}")
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["status_code"] == 503 and body["id"]
    assert response.headers["x-content-type-options"] == "nosniff"  # the security headers still apply


def test_a_store_refusing_the_request_is_a_500_not_a_503(test_app):
    with TestClient(test_app) as client:
        response = client.get("/test/fail/validation")
    assert response.status_code == 500 and "retry-after" not in response.headers


@pytest.mark.parametrize(
    "raw",
    [
        b'{"text": "a", "weight": NaN}',
        b'{"text": "a", "weight": Infinity}',
        b'{"text": "a", "weight": 1e999}',
        b'{"text": "\\ud800"}',
        b'{"text": "a", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
@pytest.mark.parametrize("content_type", ["application/json", None])
def test_a_body_fastapi_parses_is_checked_too(test_app, raw, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    with TestClient(test_app) as client:
        response = client.post("/test/note", content=raw, headers=headers)
        fine = client.post("/test/note", json={"text": "a", "weight": 0.5})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status_code"] == 400 and body["validation_errors"]
    assert fine.status_code == 200 and fine.json() == {"text": "a", "weight": 0.5}
