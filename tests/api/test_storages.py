"""S3 source and target storages through the real app, S3 through moto: sync is paginated, idempotent and
asynchronous, new objects arrive through the object-created event path, JSONL files import predictions,
and the target bucket follows annotations through the stream (EventPump.drain, in-process)."""

from __future__ import annotations

import json
import time

from functions.store.aws_clients import client
from infra.event_pump import EventPump
from tests.api.test_projects import create_project
from tests.api.test_tasks import import_
from tests.conftest import ENGINE

CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]


def bucket(name: str) -> str:
    client("s3").create_bucket(Bucket=name)
    return name


def put(bucket_name: str, key: str, body: str | bytes = b"x") -> None:
    client("s3").put_object(
        Bucket=bucket_name, Key=key, Body=body.encode() if isinstance(body, str) else body
    )


def wait_synced(api, path: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(path).json()
        if body["status"] in ("completed", "completed_with_errors", "failed"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def sync(api, path: str, timeout: float = 60) -> dict:
    response = api.post(f"{path}/sync")
    assert response.status_code == 200, response.text
    assert response.json()["status"] in ("queued", "in_progress")
    return wait_synced(api, path, timeout)


def tasks_of(api, pid: int) -> list[dict]:
    found, page = [], 1
    while True:
        response = api.get(
            "/api/tasks", params={"project": pid, "page": page, "page_size": 100, "fields": "all"}
        )
        if response.status_code == 404:
            return found
        found += response.json()["tasks"]
        if len(found) >= response.json()["total"]:
            return found
        page += 1


def source(api, pid, bucket_name, **fields):
    response = api.post(
        "/api/storages/s3", json={"project": pid, "title": "src", "bucket": bucket_name, **fields}
    )
    assert response.status_code == 201, response.text
    return response.json()


# Ten ListObjectsV2 pages on the sqlite run; three on moto's DynamoDB, where the same writes take a minute
# (the store's part of a sync is the same on both engines, see tests/store).
OBJECTS = 10_000 if ENGINE == "sqlite" else 2_500


def test_a_blob_sync_of_many_pages_creates_a_task_per_object_and_a_second_sync_creates_none(api):
    pid = create_project(api)["id"]
    b = bucket("media")
    # OBJECTS objects, plus objects the filters leave out.
    for i in range(OBJECTS):
        put(b, f"images/{i:05d}.txt")
    put(b, "images/nested/deep.txt")  # not recursive
    put(b, "images/skip.bin")  # regex
    put(b, "other/x.txt")  # prefix
    storage = source(
        api, pid, b, prefix="images", regex_filter=r".*\.txt$", use_blob_urls=True, presign_ttl=15
    )
    assert storage["status"] == "initialized" and storage["type"] == "s3"
    path = f"/api/storages/s3/{storage['id']}"

    first = sync(api, path, timeout=180)
    assert first["status"] == "completed", first
    assert first["last_sync_count"] == OBJECTS and first["meta"]["tasks_existed"] == 0
    assert api.get(f"/api/projects/{pid}").json()["task_number"] == OBJECTS
    page = api.get("/api/tasks", params={"project": pid, "page": 1, "page_size": 100}).json()
    assert page["total"] == OBJECTS
    assert min(t["data"]["text"] for t in page["tasks"]) == "s3://media/images/00000.txt"
    last_page = OBJECTS // 100
    last = api.get("/api/tasks", params={"project": pid, "page": last_page, "page_size": 100}).json()["tasks"]
    assert max(t["data"]["text"] for t in last) == f"s3://media/images/{OBJECTS - 1:05d}.txt"

    second = sync(api, path, timeout=180)
    assert second["last_sync_count"] == 0 and second["meta"]["tasks_existed"] == OBJECTS
    assert api.get(f"/api/projects/{pid}").json()["task_number"] == OBJECTS


def test_jsonl_task_files_import_their_predictions(api):
    pid = create_project(api)["id"]
    b = bucket("task-files")
    lines = [
        {"data": {"text": "great"}, "predictions": [{"model_version": "v1", "score": 0.9, "result": CHOICE}]},
        {"data": {"text": "fine"}},
    ]
    put(b, "tasks/batch.jsonl", "\n".join(json.dumps(line) for line in lines))
    put(b, "tasks/one.json", json.dumps({"data": {"text": "single"}}))
    put(b, "tasks/notes.csv", "text\nignored")
    storage = source(api, pid, b, prefix="tasks/", regex_filter=r".*json.*")
    done = sync(api, f"/api/storages/s3/{storage['id']}")
    assert done["status"] == "completed" and done["last_sync_count"] == 3
    tasks = {t["data"]["text"]: t for t in tasks_of(api, pid)}
    assert set(tasks) == {"great", "fine", "single"}
    [prediction] = tasks["great"]["predictions"]
    assert (
        prediction["model_version"] == "v1" and prediction["score"] == 0.9 and prediction["result"] == CHOICE
    )


def test_a_non_task_file_is_reported_and_the_rest_imported(api):
    pid = create_project(api)["id"]
    b = bucket("mixed")
    put(b, "a.json", json.dumps([{"text": "one"}, {"text": "two"}]))
    put(b, "b.txt", "not a task file")
    storage = source(api, pid, b)
    done = sync(api, f"/api/storages/s3/{storage['id']}")
    assert done["status"] == "completed_with_errors" and done["last_sync_count"] == 2
    assert "b.txt" in done["traceback"]


def test_object_created_events_import_new_objects_once(api):
    from functions.handlers import storage_events
    from infra.event_pump import _LocalContext

    pid = create_project(api)["id"]
    b = bucket("auto")
    put(b, "in/first.txt")
    storage = source(api, pid, b, prefix="in", use_blob_urls=True)
    sync(api, f"/api/storages/s3/{storage['id']}")
    put(b, "in/new file.txt")
    event = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": b}, "object": {"key": "in/new+file.txt", "size": 1}},
            }
        ]
    }
    assert storage_events.handler(event, _LocalContext())["created"] == 1
    assert storage_events.handler(event, _LocalContext())["created"] == 0  # S3 delivers at least once
    assert sorted(t["data"]["text"] for t in tasks_of(api, pid)) == [
        "s3://auto/in/first.txt",
        "s3://auto/in/new file.txt",
    ]
    # A later full sync does not import it again.
    assert sync(api, f"/api/storages/s3/{storage['id']}")["last_sync_count"] == 0


def test_storage_json_never_carries_secrets_and_members_only_read(api, make_user):
    pid = create_project(api)["id"]
    b = bucket("secret-bucket")
    put(b, "k.txt")
    created = source(
        api,
        pid,
        b,
        use_blob_urls=True,
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="very-secret-key",
        aws_session_token="session-secret",
    )
    listing = api.get("/api/storages", params={"project": pid})
    assert "very-secret-key" not in listing.text and "session-secret" not in listing.text
    assert created["aws_secret_access_key_is_set"] is True and "aws_secret_access_key" not in created
    assert api.get("/api/storages/types").json()[0] == {"name": "s3", "title": "AWS S3"}

    annotator, as_annotator = make_user("a@example.com", "annotator")
    path = f"/api/storages/s3/{created['id']}"
    assert as_annotator.get(path).status_code == 404  # not a member: nothing to see
    assert api.post(f"/api/projects/{pid}/members", json={"user": annotator["id"]}).status_code in (200, 201)
    assert as_annotator.get(path).status_code == 200
    assert as_annotator.patch(path, json={"title": "mine"}).status_code == 403
    assert as_annotator.post(f"{path}/sync").status_code == 403
    assert api.patch(path, json={"title": "renamed"}).json()["title"] == "renamed"


def test_bad_fields_are_400s_naming_the_field(api):
    pid = create_project(api)["id"]
    bad = api.post("/api/storages/s3", json={"project": pid, "bucket": "Not_A_Bucket"})
    assert bad.status_code == 400 and "bucket" in bad.json()["validation_errors"]
    missing = api.post("/api/storages/s3", json={"project": pid, "bucket": "does-not-exist"})
    assert missing.status_code == 400 and "bucket" in missing.json()["validation_errors"]
    regex = api.post("/api/storages/s3", json={"project": pid, "bucket": "x-bucket", "regex_filter": "("})
    assert regex.status_code == 400 and "regex_filter" in regex.json()["validation_errors"]
    own = api.post("/api/storages/s3", json={"project": pid, "bucket": "labelstack-files"})
    assert own.status_code == 400 and "bucket" in own.json()["validation_errors"]
    assert api.get("/api/storages/s3", params={"project": pid}).json() == []


def test_a_nested_quantifier_key_filter_syncs_in_linear_time(api):
    pid = create_project(api)["id"]
    # A backtracking engine needs about 1 s for a 24-character key, twice that per character more (a
    # minute for the short key here): the short key's bucket comes first so such an engine fails the test
    # instead of hanging it. The bound leaves room for a busy machine's sync of two objects.
    for length in (30, 1000):
        b = bucket(f"nested-{length}")
        put(b, "aaa")
        put(b, "a" * length + "!")
        storage = source(api, pid, b, regex_filter="(a+)+$", use_blob_urls=True)
        done = sync(api, f"/api/storages/s3/{storage['id']}")
        assert done["status"] == "completed" and done["last_sync_count"] == 1, done
        assert done["meta"]["duration"] < 5, f"{done['meta']['duration']} s with a {length + 1}-character key"
    assert [t["data"]["text"] for t in tasks_of(api, pid)] == ["s3://nested-30/aaa", "s3://nested-1000/aaa"]


def test_a_key_filter_linear_time_matching_cannot_have_is_a_400_naming_it(api):
    pid = create_project(api)["id"]
    bucket("filtered")
    for pattern in ("(?!tmp/).*", r"(\w+)/\1", "(" * 1000):
        response = api.post(
            "/api/storages/s3", json={"project": pid, "bucket": "filtered", "regex_filter": pattern}
        )
        assert response.status_code == 400, response.text
        assert list(response.json()["validation_errors"]) == ["regex_filter"], response.text


# --- target storage -------------------------------------------------------------------------------------


def target(api, pid, bucket_name, **fields):
    response = api.post(
        "/api/storages/export/s3",
        json={"project": pid, "title": "out", "bucket": bucket_name, "prefix": "out", **fields},
    )
    assert response.status_code == 201, response.text
    return response.json()


def objects(bucket_name: str) -> dict[str, dict]:
    s3 = client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket_name).get("Contents", [])]
    return {k: json.loads(s3.get_object(Bucket=bucket_name, Key=k)["Body"].read()) for k in keys}


def test_target_follows_annotations_created_updated_and_deleted(api):
    pid = create_project(api)["id"]
    [task_id] = import_(api, pid, [{"data": {"text": "good"}}])["task_ids"]
    b = bucket("target")
    storage = target(api, pid, b, can_delete_objects=True)
    assert storage["status"] == "queued" and storage["can_delete_objects"] is True
    pump = EventPump()

    created = api.post(f"/api/tasks/{task_id}/annotations", json={"result": CHOICE, "lead_time": 2.0}).json()
    pump.drain()
    written = objects(b)[f"out/{created['id']}"]
    assert written["id"] == created["id"] and written["result"] == CHOICE
    assert written["task"]["id"] == task_id and written["task"]["data"] == {"text": "good"}
    assert written["completed_by"]["email"] == "admin@example.com"

    negative = [{**CHOICE[0], "value": {"choices": ["Negative"]}}]
    assert api.patch(f"/api/annotations/{created['id']}", json={"result": negative}).status_code == 200
    pump.drain()
    assert objects(b)[f"out/{created['id']}"]["result"] == negative

    assert api.delete(f"/api/annotations/{created['id']}").status_code == 204
    pump.drain()
    assert f"out/{created['id']}" not in objects(b)


def test_target_object_arrives_once_the_bucket_recovers(api, monkeypatch):
    from functions.services import storages as storage_service

    pid = create_project(api)["id"]
    [task_id] = import_(api, pid, [{"data": {"text": "good"}}])["task_ids"]
    b = bucket("flaky-target")
    target(api, pid, b)
    real_put = storage_service._put
    failures = {"left": 2}

    def unavailable(*args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("the bucket is briefly unavailable")
        return real_put(*args, **kwargs)

    monkeypatch.setattr(storage_service, "_put", unavailable)
    pump = EventPump(max_attempts=5)
    created = api.post(f"/api/tasks/{task_id}/annotations", json={"result": CHOICE}).json()
    pump.drain()
    assert f"out/{created['id']}" not in objects(b)
    pump.drain()
    pump.drain()
    assert objects(b)[f"out/{created['id']}"]["id"] == created["id"]
    assert failures["left"] == 0


def test_target_sync_writes_every_existing_annotation(api):
    pid = create_project(api)["id"]
    tasks = import_(
        api, pid, [{"data": {"text": f"t{i}"}, "annotations": [{"result": CHOICE}]} for i in range(5)]
    )
    assert tasks["annotation_count"] == 5
    b = bucket("late-target")
    storage = target(api, pid, b, prefix="")
    done = wait_synced(api, f"/api/storages/export/s3/{storage['id']}")
    assert done["status"] == "completed" and done["last_sync_count"] == 5
    assert done["meta"]["total_annotations"] == 5
    assert len(objects(b)) == 5 and all(k.isdigit() for k in objects(b))
    listed = api.get("/api/storages/export", params={"project": pid}).json()
    assert [s["id"] for s in listed] == [storage["id"]]


def test_tasks_served_to_browsers_link_their_s3_media_through_presigned_urls(api):
    import requests

    pid = create_project(api)["id"]
    b = bucket("photos")
    put(b, "cats/1.txt", "meow")
    storage = source(api, pid, b, prefix="cats/", use_blob_urls=True, presign=True, presign_ttl=5)
    sync(api, f"/api/storages/s3/{storage['id']}")
    [task] = tasks_of(api, pid)
    assert task["data"]["text"] == "s3://photos/cats/1.txt"  # the Data Manager lists what is stored

    served = api.get(f"/api/tasks/{task['id']}").json()
    link = served["data"]["text"]
    assert link.startswith(f"/tasks/{task['id']}/presign/?fileuri=")
    assert api.get(f"/api/projects/{pid}/next").json()["data"]["text"] == link
    redirect = api.get(link, follow_redirects=False)
    assert redirect.status_code == 303
    assert requests.get(redirect.headers["location"], timeout=10).content == b"meow"
    assert api.get(f"/api/tasks/{task['id']}").json()["data"]["text"] == link  # the stored data is unchanged

    # A storage that does not presign leaves its URIs to the client, and refuses to presign them.
    api.patch(f"/api/storages/s3/{storage['id']}", json={"presign": False})
    assert api.get(f"/api/tasks/{task['id']}").json()["data"]["text"] == "s3://photos/cats/1.txt"
    assert api.get(link, follow_redirects=False).status_code == 403
