"""A hand-written fuzz pass over the write routes: each field of each route gets values of the wrong type,
huge numbers, NaN and a lone surrogate. No answer may be a 500, a 400 must be Label Studio's envelope
naming a field, and the object must still read afterwards (nothing unreadable was stored)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.api.test_projects import TEXT_CONFIG
from tests.api.test_tasks import CHOICE

# Raw JSON, so that NaN and "\ud800" reach the server as a client could send them.
BAD_VALUES = (
    "5",
    '"x"',
    '""',
    "[]",
    "{}",
    "null",
    "true",
    "-1",
    "9223372036854775808",  # 2**63: past every id column
    "1" + "0" * 130,  # beyond DynamoDB's numbers
    "1e300",
    "2.3e-145",
    "NaN",
    '"\\ud800"',
    json.dumps("x" * 3000),
)
_HOLE = "__bad_value__"


@dataclass
class Route:
    method: str
    path: str  # formatted with the world's ids
    body: dict  # a valid body (values formatted too); each field in turn is replaced
    reads: tuple[str, ...]  # GETs that must answer 200 afterwards
    fields: tuple[str, ...] = ()  # besides the body's own
    params: dict = field(default_factory=dict)


def _fmt(value, world: dict):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in world:
        return world[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fmt(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fmt(v, world) for v in value]
    return value


ROUTES: dict[str, list[Route]] = {
    "projects": [
        Route(
            "POST",
            "/api/projects",
            {"title": "t", "label_config": TEXT_CONFIG},
            ("/api/projects", "/api/projects/{project}"),
            (
                "description",
                "maximum_annotations",
                "sampling",
                "skip_queue",
                "show_skip_button",
                "color",
                "control_weights",
                "model_version",
                "overlap_cohort_percentage",
                "min_annotations_to_start_training",
                "expert_instruction",
            ),
        ),
        Route(
            "PATCH",
            "/api/projects/{project}",
            {"title": "t"},
            ("/api/projects", "/api/projects/{project}", "/api/tasks?project={project}"),
            ("label_config", "maximum_annotations", "sampling", "is_published", "control_weights", "color"),
        ),
        Route("POST", "/api/projects/validate", {"label_config": TEXT_CONFIG}, ()),
        Route(
            "POST",
            "/api/projects/{project}/members",
            {"user": "{user}"},
            ("/api/projects/{project}/members",),
        ),
    ],
    "tasks": [
        Route(
            "POST",
            "/api/projects/{project}/import",
            {"data": {"text": "a"}},
            ("/api/tasks?project={project}&fields=all", "/api/projects/{project}/export"),
            ("predictions", "annotations", "meta", "id"),
        ),
        Route(
            "POST",
            "/api/projects/{project}/import",
            {"data": {"text": "a"}, "predictions": [{"result": CHOICE, "score": 0.5, "model_version": "v"}]},
            ("/api/tasks?project={project}&fields=all", "/api/projects/{project}/export"),
        ),
        Route(
            "POST",
            "/api/tasks",
            {"project": "{project}", "data": {"text": "a"}},
            ("/api/tasks?project={project}",),
            ("meta",),
        ),
        Route("PATCH", "/api/tasks/{task}", {"data": {"text": "b"}}, ("/api/tasks/{task}",), ("meta",)),
    ],
    "annotations": [
        Route(
            "POST",
            "/api/tasks/{task}/annotations",
            {"result": CHOICE},
            ("/api/tasks/{task}", "/api/tasks/{task}/annotations", "/api/projects/{project}/export"),
            (
                "lead_time",
                "ground_truth",
                "was_cancelled",
                "last_action",
                "parent_prediction",
                "parent_annotation",
            ),
        ),
        Route(
            "PATCH",
            "/api/annotations/{annotation}",
            {"result": CHOICE},
            ("/api/annotations/{annotation}", "/api/tasks/{task}", "/api/tasks/{task}/agreement"),
            ("lead_time", "ground_truth", "last_action", "version", "was_cancelled"),
        ),
        Route(
            "POST",
            "/api/annotation-reviews",
            {"annotation": "{annotation}", "accepted": True},
            ("/api/annotations/{annotation}",),
            ("comment",),
        ),
    ],
    "drafts": [
        Route(
            "POST",
            "/api/tasks/{task}/drafts",
            {"result": CHOICE, "lead_time": 1.0},
            ("/api/tasks/{task}", "/api/tasks/{task}/drafts"),
            ("was_postponed",),
        ),
        Route(
            "POST",
            "/api/tasks/{task}/annotations/{annotation}/drafts",
            {"result": CHOICE},
            ("/api/tasks/{task}/annotations/{annotation}/drafts",),
            ("lead_time",),
        ),
        Route(
            "PATCH",
            "/api/drafts/{draft}",
            {"result": CHOICE, "lead_time": 2.0},
            ("/api/drafts/{draft}", "/api/tasks/{task}"),
            ("was_postponed",),
        ),
        Route(
            "PATCH",
            "/api/annotations/{annotation}",
            {"result": CHOICE},
            ("/api/annotations/{annotation}", "/api/tasks/{task}/drafts"),
            ("draft_id",),
        ),
    ],
    "predictions": [
        Route(
            "POST",
            "/api/predictions",
            {"task": "{task}", "result": CHOICE, "score": 0.5, "model_version": "v"},
            ("/api/tasks/{task}", "/api/predictions?task={task}", "/api/tasks?project={project}&fields=all"),
            ("model",),
        ),
        Route(
            "PATCH",
            "/api/predictions/{prediction}",
            {"score": 0.5, "model_version": "v", "result": CHOICE},
            ("/api/predictions/{prediction}", "/api/tasks/{task}", "/api/projects/{project}/export"),
        ),
    ],
    "data_manager": [
        Route(
            "POST",
            "/api/dm/actions",
            {
                "selectedItems": {"all": True, "excluded": []},
                "filters": {
                    "conjunction": "and",
                    "items": [
                        {"filter": "filter:tasks:id", "operator": "greater", "type": "Number", "value": 0}
                    ],
                },
                "ordering": ["tasks:id"],
            },
            ("/api/tasks?project={project}",),
            params={"id": "predictions_to_annotations", "project": "{project}"},
        ),
        Route(
            "POST",
            "/api/dm/actions",
            {"filters": {"conjunction": "and", "items": []}, "ordering": ["-tasks:id"]},
            ("/api/tasks?project={project}", "/api/projects/{project}/label-stream-history"),
            ("selectedItems", "view"),
            params={"id": "next_task", "project": "{project}"},
        ),
        Route(
            "POST",
            "/api/dm/views",
            {"project": "{project}", "data": {"title": "t", "filters": {"conjunction": "and", "items": []}}},
            ("/api/dm/views?project={project}", "/api/tasks?project={project}&view={view}"),
            ("order",),
        ),
        Route(
            "PATCH",
            "/api/dm/views/{view}",
            {"data": {"title": "t", "ordering": ["tasks:id"], "hiddenColumns": {"explore": ["tasks:id"]}}},
            ("/api/dm/views/{view}", "/api/tasks?project={project}&view={view}"),
            ("order", "project"),
        ),
        Route(
            "POST",
            "/api/dm/views/order",
            {"project": "{project}", "ids": ["{view}"]},
            ("/api/dm/views?project={project}",),
        ),
        Route(
            "POST",
            "/api/projects/{project}/exports/{snapshot}/convert",
            {"export_type": "CSV"},
            ("/api/projects/{project}/exports/{snapshot}",),
        ),
        Route(
            "POST",
            "/api/projects/{project}/exports",
            {"title": "s"},
            ("/api/projects/{project}/exports",),
            ("task_filter_options", "annotation_filter_options", "serialization_options"),
        ),
    ],
    "integrations": [
        Route(
            "POST",
            "/api/webhooks",
            {"project": "{project}", "url": "{hook}"},
            ("/api/webhooks?project={project}",),
            ("send_payload", "send_for_all_actions", "headers", "is_active", "actions", "secret"),
        ),
        Route(
            "PATCH",
            "/api/webhooks/{webhook}",
            {"url": "{hook}"},
            ("/api/webhooks/{webhook}",),
            ("headers", "actions", "is_active"),
        ),
        Route(
            "POST",
            "/api/ml",
            {"project": "{project}", "url": "{model}", "title": "m"},
            ("/api/ml?project={project}",),
            ("is_interactive", "timeout", "extra_params", "auth_method", "description", "kind"),
        ),
        Route(
            "POST",
            "/api/ml/{ml}/interactive-annotating",
            {"task": "{task}", "context": {"result": []}},
            ("/api/ml/{ml}",),
        ),
        Route(
            "PATCH",
            "/api/ml/{ml}",
            {"title": "m"},
            ("/api/ml/{ml}", "/api/ml?project={project}"),
            ("timeout", "extra_params", "auto_update"),
        ),
        Route(
            "POST",
            "/api/storages/s3",
            {"project": "{project}", "bucket": "{bucket}", "title": "s"},
            ("/api/storages/s3?project={project}",),
            ("prefix", "presign_ttl", "use_blob_urls", "regex_filter", "region_name", "description"),
        ),
        Route(
            "POST",
            "/api/storages/s3/validate",
            {"id": "{storage}"},
            ("/api/storages/s3/{storage}",),
            ("project", "prefix"),
        ),
        Route(
            "PATCH",
            "/api/storages/s3/{storage}",
            {"title": "s"},
            ("/api/storages/s3/{storage}",),
            ("presign_ttl", "use_blob_urls"),
        ),
    ],
    "users": [
        Route(
            "POST",
            "/api/users",
            {"email": "new@example.com", "role": "annotator"},
            ("/api/users",),
            ("first_name", "last_name", "username"),
        ),
        Route(
            "PATCH",
            "/api/users/{user}",
            {"first_name": "a"},
            ("/api/users/{user}",),
            ("role", "last_name", "is_active"),
        ),
        Route(
            "POST",
            "/api/session",
            {"email": "admin@example.com", "password": "p"},
            ("/api/current-user/whoami",),
        ),
        Route("POST", "/api/token/refresh", {"refresh": "r"}, ("/api/current-user/whoami",)),
        Route("POST", "/api/token/blacklist", {"refresh": "r"}, ("/api/token",)),
    ],
}


class FakeModel:
    """Answers like a Label Studio ML backend: `/health` and `/setup` as a working one does, `/predict`
    with `predict` (by default, no predictions), as raw bytes."""

    def __init__(self, predict: bytes = b'{"results": []}'):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                body = json.dumps({"status": "UP", "model_version": "v1", "results": []}).encode()
                if self.path.startswith("/predict"):
                    body = predict
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                self.do_GET()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def world(api, monkeypatch):
    """One of each object the routes change, and the ids to format paths and bodies with."""
    from functions.store.aws_clients import client
    from infra.local_stack import apply_settings

    monkeypatch.setenv("LABELSTACK_ALLOWED_HOSTS", "127.0.0.1")
    monkeypatch.setenv("LABELSTACK_ML_RETRIES", "0")
    apply_settings({})
    model = FakeModel()
    client("s3").create_bucket(Bucket="scan-bucket")
    ids: dict = {"bucket": "scan-bucket", "model": model.url, "hook": "http://127.0.0.1:9/hook"}

    def made(response) -> dict:
        assert response.status_code in (200, 201), response.text
        return response.json()

    ids["project"] = made(api.post("/api/projects", json={"title": "p", "label_config": TEXT_CONFIG}))["id"]
    answer = made(
        api.post(f"/api/projects/{ids['project']}/import?return_task_ids=1", json=[{"data": {"text": "a"}}])
    )
    ids["task"] = answer["task_ids"][0]
    ids["annotation"] = made(api.post(f"/api/tasks/{ids['task']}/annotations", json={"result": CHOICE}))["id"]
    prediction = {"task": ids["task"], "result": CHOICE, "score": 0.5, "model_version": "v"}
    ids["prediction"] = made(api.post("/api/predictions", json=prediction))["id"]
    ids["webhook"] = made(api.post("/api/webhooks", json={"project": ids["project"], "url": ids["hook"]}))[
        "id"
    ]
    ids["ml"] = made(api.post("/api/ml", json={"project": ids["project"], "url": model.url, "title": "m"}))[
        "id"
    ]
    ids["snapshot"] = made(api.post(f"/api/projects/{ids['project']}/exports", json={}))["id"]
    storage = {"project": ids["project"], "bucket": ids["bucket"], "title": "s"}
    ids["storage"] = made(api.post("/api/storages/s3", json=storage))["id"]
    ids["user"] = made(api.post("/api/users", json={"email": "member@example.com", "role": "annotator"}))[
        "id"
    ]
    ids["view"] = made(api.post("/api/dm/views", json={"project": ids["project"], "data": {"title": "v"}}))[
        "id"
    ]
    ids["draft"] = made(api.post(f"/api/tasks/{ids['task']}/drafts", json={"result": CHOICE}))["id"]
    yield ids
    model.close()
    apply_settings({})


def _send(api, route: Route, world: dict, field_name: str, raw_value: str):
    body = {**_fmt(route.body, world), field_name: _HOLE}
    if route.path.endswith("/import"):
        body = [body]  # a task list
    text = json.dumps(body).replace(json.dumps(_HOLE), raw_value)
    return api.request(
        route.method,
        route.path.format(**world),
        params=_fmt(route.params, world),
        content=text.encode(),
        headers={"Content-Type": "application/json"},
    )


def _check_reads(api, route: Route, world: dict, after: str) -> list[str]:
    problems = []
    for path in route.reads:
        response = api.get(path.format(**world))
        if response.status_code != 200:
            problems.append(f"GET {path} after {after}: {response.status_code} {response.text[:200]}")
    return problems


def _scan(api, world: dict, routes: list[Route], values: tuple[str, ...]) -> list[str]:
    problems: list[str] = []
    for route in routes:
        for name in dict.fromkeys([*route.body, *route.fields]):
            for raw_value in values:
                response = _send(api, route, world, name, raw_value)
                where = f"{route.method} {route.path} {name}={raw_value[:20]}"
                if response.status_code >= 500:
                    problems.append(f"{where}: {response.status_code} {response.text[:200]}")
                elif response.status_code == 400:
                    body = response.json()
                    errors = body.get("validation_errors")
                    if body.get("status_code") != 400 or not isinstance(errors, dict) or not errors:
                        problems.append(f"{where}: 400 without validation_errors: {response.text[:200]}")
            problems += _check_reads(api, route, world, f"{route.method} {route.path} {name}")
    return problems


@pytest.mark.parametrize("group", sorted(ROUTES))
def test_no_bad_value_is_a_500_or_stored_unreadably(api, world, group):
    problems = _scan(api, world, ROUTES[group], BAD_VALUES)
    assert not problems, "\n".join(problems)


def test_no_value_too_large_for_an_item_is_a_500(api, world):
    """DynamoDB keeps at most 400 KB in an item: a field that is stored in one has a bound below that."""
    large = (json.dumps("x" * 420_000), json.dumps({"a": "x" * 420_000}))
    problems = _scan(api, world, [r for routes in ROUTES.values() for r in routes], large)
    assert not problems, "\n".join(problems)


def test_every_write_route_is_scanned(app):
    """A new write route joins the scan, or is named here with the reason it need not."""
    not_scanned: set[tuple[str, str]] = {
        # No JSON body.
        ("POST", "/api/current-user/reset-token"),
        ("POST", "/api/current-user/sign-out-everywhere"),
        ("POST", "/api/token"),
        ("POST", "/api/ml/{backend_id}/train"),
        ("POST", "/api/ml/{backend_id}/predict/test"),
        ("POST", "/api/storages/s3/{storage_id}/sync"),
        ("POST", "/api/storages/export/s3/{storage_id}/sync"),
        # Twins of scanned routes: the same function behind another path or method.
        ("PUT", "/api/webhooks/{webhook_id}"),
        ("POST", "/api/storages/export/s3"),
        ("POST", "/api/storages/export/s3/validate"),
        ("PATCH", "/api/storages/export/s3/{storage_id}"),
        ("POST", "/api/projects/{project_id}/validate"),
        ("PUT", "/api/dm/views/{view_id}"),
        ("PUT", "/api/drafts/{draft_id}"),
    }
    scanned = {(r.method, _template(r.path)) for routes in ROUTES.values() for r in routes}
    missing = []
    for route in app.routes:
        for method in getattr(route, "methods", set()) & {"POST", "PUT", "PATCH"}:
            key = (method, route.path)
            if key not in not_scanned and key not in scanned:
                missing.append(key)
    assert not missing, missing


# The scan's names for ids in paths, and the app's.
_PATH_PARAMS = {
    "project": "project_id",
    "task": "task_id",
    "annotation": "annotation_id",
    "prediction": "prediction_id",
    "webhook": "webhook_id",
    "ml": "backend_id",
    "storage": "storage_id",
    "user": "user_id",
    "snapshot": "snapshot_id",
    "view": "view_id",
    "draft": "draft_id",
}


def _template(path: str) -> str:
    for ours, theirs in _PATH_PARAMS.items():
        path = path.replace("{" + ours + "}", "{" + theirs + "}")
    return path
