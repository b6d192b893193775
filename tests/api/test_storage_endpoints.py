"""A storage's custom `s3_endpoint` and `external_id` through the real app: the endpoint is an S3 emulator
on 127.0.0.1 reached under a host name whose DNS answers the test controls (socket.getaddrinfo, what the
SSRF guard resolves with), so the name can move to a refused address after the storage was validated."""

from __future__ import annotations

import json
import socket

import pytest
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from functions.store.aws_clients import client
from tests.api.test_projects import create_project
from tests.api.test_storages import CHOICE, bucket, objects, put, sync, tasks_of, wait_synced
from tests.api.test_tasks import import_

ENDPOINT_HOST = "objectstore"  # no dot: the emulator then serves path-style buckets
KEYS = {"aws_access_key_id": "storage-key", "aws_secret_access_key": "storage-secret"}
ROLE = "arn:aws:iam::123456789012:role/labelstack-storage-media"


@pytest.fixture
def endpoint(aws, monkeypatch):
    """`http://objectstore:<port>`, an S3 emulator on 127.0.0.1; `answers` is what the name resolves to,
    one entry used per lookup (the last one repeats), and `lookups` counts them."""
    from infra.local_stack import apply_settings

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server.get_host_and_port()[1]
    real_getaddrinfo = socket.getaddrinfo
    dns = {"answers": ["127.0.0.1"], "lookups": 0}

    def getaddrinfo(host, port_, *args, **kwargs):
        if host != ENDPOINT_HOST:
            return real_getaddrinfo(host, port_, *args, **kwargs)
        dns["lookups"] += 1
        address = dns["answers"].pop(0) if len(dns["answers"]) > 1 else dns["answers"][0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port_))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setenv("LABELSTACK_ALLOWED_HOSTS", "127.0.0.1")
    apply_settings({})
    yield f"http://{ENDPOINT_HOST}:{port}", dns
    monkeypatch.delenv("LABELSTACK_ALLOWED_HOSTS")
    apply_settings({})
    server.stop()


def test_a_custom_endpoint_needs_the_storages_own_keys(api):
    pid = create_project(api)["id"]
    for fields in ({}, {"role_arn": ROLE}):
        response = api.post(
            "/api/storages/s3",
            json={"project": pid, "bucket": "media", "s3_endpoint": "https://s3.example.com", **fields},
        )
        assert response.status_code == 400, response.text
        assert "aws_access_key_id" in response.json()["validation_errors"]


def test_the_endpoint_is_checked_at_each_use_and_the_connection_pinned_to_the_checked_address(api, endpoint):
    url, dns = endpoint
    b = bucket("remote-media")
    put(b, "in/1.txt")
    pid = create_project(api)["id"]
    created = api.post(
        "/api/storages/s3",
        json={"project": pid, "bucket": b, "prefix": "in", "use_blob_urls": True, "s3_endpoint": url, **KEYS},
    )
    assert created.status_code == 201, created.text
    path = f"/api/storages/s3/{created.json()['id']}"

    # DNS rebinding: the name answers an allowed address once, then the metadata service. The sync looks
    # it up once, checks that answer and connects to it; a second lookup by the connection would reach
    # 169.254.169.254 and fail the sync.
    dns["answers"] = ["127.0.0.1", "169.254.169.254"]
    before = dns["lookups"]
    done = sync(api, path)
    assert done["status"] == "completed" and done["last_sync_count"] == 1, done
    assert dns["lookups"] == before + 1
    assert [t["data"]["text"] for t in tasks_of(api, pid)] == ["s3://remote-media/in/1.txt"]

    # Now the name stays on the refused address: the next sync is refused before any request.
    put(b, "in/2.txt")
    refused = sync(api, path)
    assert refused["status"] == "failed", refused
    assert "s3_endpoint" in refused["traceback"] and "169.254.169.254" in refused["traceback"]
    assert len(tasks_of(api, pid)) == 1
    validated = api.post("/api/storages/s3/validate", json={"id": created.json()["id"]})
    assert validated.status_code == 400 and "s3_endpoint" in validated.json()["validation_errors"]


def test_external_id_is_generated_for_each_storage_and_a_supplied_one_ignored(api):
    pid = create_project(api)["id"]
    b = bucket("role-media")
    put(b, "k.txt")
    made = []
    for _ in range(2):
        response = api.post(
            "/api/storages/s3",
            json={
                "project": pid,
                "bucket": b,
                "use_blob_urls": True,
                "role_arn": ROLE,
                "external_id": "chosen-by-the-manager",
            },
        )
        assert response.status_code == 201, response.text
        made.append(response.json())
    first, second = (s["external_id"] for s in made)
    assert len(first) == 32 and int(first, 16) >= 0 and first != second
    assert "chosen-by-the-manager" not in (first, second)

    path = f"/api/storages/s3/{made[0]['id']}"
    patched = api.patch(path, json={"external_id": "chosen-by-the-manager", "title": "renamed"})
    assert patched.status_code == 200 and patched.json()["external_id"] == first
    assert api.get(path).json()["external_id"] == first

    # The role is assumed with the storage's own external_id.
    sent = []

    def record(params, **_):
        sent.append(params)

    client("sts").meta.events.register("provide-client-params.sts.AssumeRole", record)
    assert api.post("/api/storages/s3/validate", json={"id": made[0]["id"]}).status_code == 200
    assert sync(api, path)["last_sync_count"] == 1
    assert sent and all(p["ExternalId"] == first and p["RoleArn"] == ROLE for p in sent)


def test_task_files_and_annotation_objects_go_through_the_pinned_endpoint(api, endpoint):
    url, dns = endpoint
    pid = create_project(api)["id"]
    b = bucket("remote-tasks")
    put(b, "tasks/batch.jsonl", "\n".join(json.dumps({"text": t}) for t in ("one", "two")))
    storage = api.post(
        "/api/storages/s3", json={"project": pid, "bucket": b, "prefix": "tasks", "s3_endpoint": url, **KEYS}
    ).json()
    assert sync(api, f"/api/storages/s3/{storage['id']}")["last_sync_count"] == 2
    assert sorted(t["data"]["text"] for t in tasks_of(api, pid)) == ["one", "two"]

    import_(api, pid, [{"data": {"text": "three"}, "annotations": [{"result": CHOICE}]}])
    out = bucket("remote-annotations")
    target = api.post(
        "/api/storages/export/s3",
        json={"project": pid, "bucket": out, "prefix": "out", "s3_endpoint": url, **KEYS},
    ).json()
    done = wait_synced(api, f"/api/storages/export/s3/{target['id']}")
    assert done["status"] == "completed" and done["last_sync_count"] == 1, done
    [written] = objects(out).values()
    assert written["result"] == CHOICE and written["task"]["data"] == {"text": "three"}
    assert dns["lookups"] >= 4  # create and sync of each storage: the endpoint looked up at every use
