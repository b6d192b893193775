"""The served OpenAPI document describes every request body, query parameter and answer.

Routes declare what they read (FastAPI body models, `Query` parameters), so the document follows from
the code; these tests keep it so: the query parameters Label Studio clients send are each declared where
they are read, every operation that takes a body declares it, no route reads its body or query string
behind the document's back, and every answer is described.
"""

from __future__ import annotations

import inspect
import re

import pytest
from fastapi.routing import APIRoute

from functions.api.app import create_app

# Per operation, the query parameters it reads: Label Studio's names (exportType, ids[] and all).
QUERY = {
    ("GET", "/api/projects"): {"page", "page_size"},
    ("GET", "/api/tasks"): {"project", "page", "page_size", "fields", "query", "view"},
    ("POST", "/api/tasks/{task_id}/annotations"): {"was_cancelled"},
    ("GET", "/api/predictions"): {"task", "project"},
    ("POST", "/api/projects/{project_id}/import"): {"return_task_ids"},
    ("GET", "/api/projects/{project_id}/file-uploads"): {"ids", "all"},
    ("GET", "/api/projects/{project_id}/export"): {
        "exportType",
        "export_type",
        "download_all_tasks",
        "ids",
        "ids[]",
        "majority_vote",
    },
    ("GET", "/api/projects/{project_id}/exports/{snapshot_id}/download"): {"exportType", "export_type"},
    ("GET", "/api/annotation-reviews"): {"annotation"},
    ("GET", "/api/dm/actions"): {"project"},
    ("POST", "/api/dm/actions"): {"project", "id", "view"},
    ("GET", "/api/dm/views"): {"project"},
    ("DELETE", "/api/dm/views/reset"): {"project"},
    ("GET", "/api/projects/{project_id}/next"): {"view", "query"},
    ("GET", "/api/projects/{project_id}/label-stream-progress"): {"view", "query"},
    ("GET", "/api/ml"): {"project"},
    ("GET", "/api/projects/{project_id}/model-versions"): {"extended", "include_live_models", "limit"},
    ("POST", "/api/ml/{backend_id}/predict/test"): {"random"},
    ("GET", "/api/tasks/{task_id}/presign"): {"fileuri"},
    ("GET", "/tasks/{task_id}/presign"): {"fileuri"},
    ("GET", "/api/tasks/{task_id}/resolve"): {"fileuri"},
    ("GET", "/tasks/{task_id}/resolve"): {"fileuri"},
    ("GET", "/api/storages"): {"project"},
    ("GET", "/api/storages/export"): {"project"},
    ("GET", "/api/storages/s3"): {"project"},
    ("GET", "/api/storages/export/s3"): {"project"},
    ("GET", "/api/webhooks"): {"project"},
    ("GET", "/api/webhooks/info"): {"organization-only"},
    ("GET", "/api/webhooks/{webhook_id}/deliveries"): {"limit"},
}
# POST, PATCH and PUT operations that take no body: an action on the object the path names.
NO_BODY = {
    ("POST", "/api/current-user/reset-token"),
    ("POST", "/api/current-user/sign-out-everywhere"),
    ("POST", "/api/invite/reset-token"),
    ("POST", "/api/token"),
    ("POST", "/api/ml/{backend_id}/train"),
    ("POST", "/api/ml/{backend_id}/predict/test"),
    ("POST", "/api/storages/s3/{storage_id}/sync"),
    ("POST", "/api/storages/export/s3/{storage_id}/sync"),
    ("POST", "/api/webhooks/{webhook_id}/test"),
}
# What a route function may not do with its `Request`: read the body or query string itself.
_READS_REQUEST = re.compile(r"request\.(query_params|json\(|body\(|form\()|json_body\(|int_param\(|flag\(")
# The one route that reads its body itself: JSON or a multipart upload, which FastAPI cannot declare as
# one parameter; its requestBody is written out (functions/api/schemas/data_io.py).
READS_ITS_OWN_BODY = {"import_tasks"}
_NO_CONTENT = {"204", "303"}
# Label Studio's view reset takes its project in a DELETE's body, or as `?project=` (the SDK's way).
DELETE_WITH_BODY = {("DELETE", "/api/dm/views/reset")}


@pytest.fixture(scope="module")
def app():
    return create_app()


@pytest.fixture(scope="module")
def operations(app) -> dict[tuple[str, str], dict]:
    return {
        (method.upper(), path): operation
        for path, methods in app.openapi()["paths"].items()
        for method, operation in methods.items()
    }


def test_every_query_parameter_read_is_declared(operations):
    declared = {
        key: {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        for key, op in operations.items()
    }
    assert {key: names for key, names in declared.items() if names} == QUERY


def test_every_operation_that_takes_a_body_declares_it(operations):
    writes = {key for key in operations if key[0] in ("POST", "PATCH", "PUT")}
    assert writes >= NO_BODY
    for key in sorted(writes - NO_BODY):
        body = operations[key].get("requestBody")
        assert body is not None, key
        assert body["content"]["application/json"]["schema"], key
    for key in sorted(NO_BODY):
        assert "requestBody" not in operations[key], key
    with_body = {
        key for key in operations if key[0] in ("GET", "DELETE") and "requestBody" in operations[key]
    }
    assert with_body == DELETE_WITH_BODY


def test_the_import_declares_json_and_file_uploads(operations):
    content = operations[("POST", "/api/projects/{project_id}/import")]["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    one_task = content["application/json"]["schema"]["anyOf"][1]
    assert {"data", "annotations", "predictions", "meta"} <= set(one_task["properties"])
    assert one_task["additionalProperties"] is True  # a flat task is its own data


def test_no_route_reads_its_request_behind_the_document(app):
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        source = inspect.getsource(route.endpoint)
        if route.endpoint.__name__ in READS_ITS_OWN_BODY:
            continue
        assert not _READS_REQUEST.search(source), f"{route.path}: {route.endpoint.__name__}"


def test_every_answer_is_described(operations):
    error = "#/components/schemas/ErrorBody"
    for key, operation in operations.items():
        responses = operation["responses"]
        successes = [code for code in responses if code.startswith("2") or code == "303"]
        assert successes, key
        for code in successes:
            content = responses[code].get("content", {})
            if code in _NO_CONTENT or "application/json" not in content:
                continue
            assert content["application/json"]["schema"], (key, code)
        for code, answer in responses.items():
            if code.startswith(("4", "5")):
                assert answer["content"]["application/json"]["schema"] == {"$ref": error}, (key, code)
        if operation.get("security"):
            assert "401" in responses, key


def test_request_and_response_models_keep_label_studio_fields(app):
    schemas = app.openapi()["components"]["schemas"]
    # Unknown request fields pass through (Label Studio's serializers ignore them); answers keep every
    # field a route returns.
    assert schemas["ProjectRequest"]["additionalProperties"] is True
    assert schemas["Project"]["additionalProperties"] is True
    project_settings = schemas["ProjectRequest"]["properties"]
    bounds = project_settings["maximum_annotations"]
    assert (bounds["minimum"], bounds["maximum"]) == (1, 2**31 - 1)  # exactly: ints, not floats
    task = schemas["TaskDetail"]["properties"]
    assert {"annotations", "predictions", "data", "meta", "is_labeled", "inner_id"} <= set(task)
