"""Property-based test of the whole API against its own OpenAPI document (schemathesis).

Every operation of /api/openapi.json is called with generated requests, valid ones (positive) and
invalid ones (negative), as a project owner (the admin who created the seeded project) with an API
token. Each answer must not be a 5xx, must have a documented status code, and must match the documented
response schema. Path parameters are often the ids of real objects seeded below (a project with tasks,
annotations, predictions and a draft, an ML backend served by a stub on 127.0.0.1, source and target S3
storages, a webhook, an export snapshot, a member, a Data Manager view), so generation reaches the
services and the store, not only 404s. DELETE operations get objects made to be deleted, so the rest
keep theirs.

No operation is excluded. The ones that make the server call out are safe here: the ML backend is a
local stub, the webhook URL is a local one nothing listens on (deliveries are not pumped in this test),
and any other URL the generator invents is refused by the SSRF guard (only 127.0.0.1 is allowed).

Each operation is one test (positive, then negative) over one seeded installation for the module, run in
the order DELETEs last. schemathesis's own pytest loader (`schemathesis.pytest.from_fixture`) cannot be
used: it sets `_nodeid` on pytest's items, which pytest 9 no longer has. An exception inside the app
reaches the test as itself (the ASGI transport raises it), with its traceback, rather than as a 500.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.api.test_projects import create_project
from tests.api.test_tasks import import_
from tests.conftest import ADMIN_TOKEN, ENGINE

CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
CONFIG = schemathesis.Config.from_dict(
    # The caller's credentials are ours (an API token); generated ones would only be 401s.
    {"generation": {"with-security-parameters": False}}
)
# Per operation and generation mode. Derandomized, so a CI run tries what a local run tried; no shrinking
# (a failure is reported as found) and no example database, so a run does not depend on earlier ones.
FUZZ_SETTINGS = settings(
    # A longer search, run by hand: LABELSTACK_FUZZ_EXAMPLES=500 pytest tests/api/test_openapi_fuzz.py
    max_examples=int(os.environ.get("LABELSTACK_FUZZ_EXAMPLES", "20")),
    deadline=None,
    derandomize=True,
    database=None,
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    suppress_health_check=list(HealthCheck),
)


class StubBackend:
    """An ML backend speaking Label Studio's protocol: up, version "stub-v1", a Positive for any task."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: object) -> None:
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):
                if self.path.startswith("/versions"):
                    self._answer({"versions": ["stub-v1"]})
                else:
                    self._answer({"status": "UP", "model_class": "Stub"})

            def do_POST(self):
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path.startswith("/predict"):
                    tasks = request.get("tasks") or []
                    results = [{"result": CHOICE, "score": 0.5, "model_version": "stub-v1"} for _ in tasks]
                    self._answer({"results": results, "model_version": "stub-v1"})
                else:  # /setup, /webhook (training)
                    self._answer({"model_version": "stub-v1"})

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _created(response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


def _new_user(api, email: str) -> int:
    return _created(api.post("/api/users", json={"email": email, "role": "annotator"}))["id"]


def _new_token_id(api) -> str:
    _created(api.post("/api/token"))
    return api.get("/api/token").json()[-1]["jti"]


def _seed_project(api, backend_url: str, bucket: str, member_id: int) -> dict[str, int | str]:
    """A project with one of each kind of object that hangs off it; their ids, by path parameter."""
    pid = create_project(api)["id"]
    task_ids = import_(
        api,
        pid,
        [
            {"data": {"text": "good"}, "annotations": [{"result": CHOICE}]},
            {"data": {"text": "bad"}, "predictions": [{"result": CHOICE, "score": 0.4}]},
            {"data": {"text": "plain"}},
        ],
    )["task_ids"]
    task_id = task_ids[2]
    annotation = _created(api.post(f"/api/tasks/{task_id}/annotations", json={"result": CHOICE}))
    prediction = _created(
        api.post("/api/predictions", json={"task": task_id, "result": CHOICE, "score": 0.9})
    )
    backend = _created(api.post("/api/ml", json={"project": pid, "url": backend_url, "title": "stub"}))
    source = _created(
        api.post("/api/storages/s3", json={"project": pid, "bucket": bucket, "use_blob_urls": True})
    )
    target = _created(api.post("/api/storages/export/s3", json={"project": pid, "bucket": bucket}))
    webhook = _created(api.post("/api/webhooks", json={"project": pid, "url": "http://127.0.0.1:9/hook"}))
    snapshot = _created(api.post(f"/api/projects/{pid}/exports", json={"title": "fuzz"}))
    _created(api.post(f"/api/projects/{pid}/members", json={"user": member_id}))
    view = _created(api.post("/api/dm/views", json={"project": pid, "data": {"title": "fuzz"}}))
    draft = _created(api.post(f"/api/tasks/{task_id}/drafts", json={"result": CHOICE}))
    background_import = import_(api, pid, [{"text": f"later {i}"} for i in range(4)])["import"]
    job = _created(
        api.post(
            "/api/dm/actions",
            params={"id": "retrieve_tasks_predictions", "project": pid},
            json={"selectedItems": {"all": True, "excluded": []}},
        )
    )["job"]
    return {
        "project_id": pid,
        "task_id": task_id,
        "annotation_id": annotation["id"],
        "prediction_id": prediction["id"],
        "backend_id": backend["id"],
        "storage_id": source["id"],
        "export_storage_id": target["id"],
        "webhook_id": webhook["id"],
        "snapshot_id": snapshot["id"],
        "member_id": member_id,
        "user_id": member_id,
        "jti": _new_token_id(api),
        "import_id": background_import,
        "job_id": job,
        "view_id": view["id"],
        "draft_id": draft["id"],
    }


def _real_ids(operation, ids: dict) -> dict:
    """The seeded ids for the operation's path parameters (a target storage's under /export/)."""
    real = {}
    for parameter in operation.path_parameters:
        key = parameter.name
        if key == "storage_id" and "/export/" in operation.path:
            key = "export_storage_id"
        if key in ids:
            real[parameter.name] = ids[key]
    return real


# Fields of a query or a body that name an object, and the seeded id to put there.
_REFERENCES = {"project": "project_id", "task": "task_id", "annotation": "annotation_id", "user": "user_id"}


def _real_references(values, ids: dict) -> dict:
    """`values` (a query or a JSON body) with the fields that name objects naming seeded ones."""
    if not isinstance(values, dict):
        return {}
    return {name: ids[key] for name, key in _REFERENCES.items() if name in values}


def _sometimes(generated, real: dict):
    """As generated, or with the seeded ids in: half the examples reach real objects."""
    if not real:
        return st.just(generated)
    return st.sampled_from([{**(generated or {}), **real}, generated])


class Caller:
    """The credentials the fuzz sends: the admin's API token, followed when an operation resets it."""

    RESETS = ("/api/current-user/reset-token", "/api/current-user/sign-out-everywhere")

    def __init__(self, token: str):
        self.token = token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}

    def follow(self, case, response) -> None:
        if case.operation.path in self.RESETS and response.status_code == 200:
            self.token = response.json()["token"]


@dataclass
class Stack:
    schema: schemathesis.BaseSchema
    caller: Caller


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """One seeded installation for every operation (seeding takes seconds; operations take less).
    Path parameters are often the seeded ids: `keep` ones for every operation but DELETE, which gets
    `victims` (a second project with its objects, a second member, a second token)."""
    from functions.api.app import create_app
    from functions.services import identity, training
    from functions.store.aws_clients import client
    from infra.local_stack import apply_settings, provision
    from infra.local_training import LocalTrainingRunner

    env = {
        "LABELSTACK_STORE_ENGINE": ENGINE,
        "LABELSTACK_DATA_DIR": str(tmp_path_factory.mktemp("fuzz") / "data"),
        # The stub ML backend and the webhook are on 127.0.0.1; every other address stays refused.
        "LABELSTACK_ALLOWED_HOSTS": "127.0.0.1",
        # Imports of more than 3 tasks and predictions for more than 2 run in the background, so those
        # paths are fuzzed too (and the seeded import and prediction job have ids to poll).
        "LABELSTACK_SYNC_IMPORT_LIMIT": "3",
        "LABELSTACK_ML_SYNC_PREDICT_LIMIT": "2",
    }
    saved = {name: os.environ.get(name) for name in env}
    backend = StubBackend()
    with mock_aws():
        apply_settings(env)
        provision()
        # /train runs as `labelstack dev` runs it (an http backend's run is a call to its /webhook).
        training.use_local_runner(LocalTrainingRunner(tmp_path_factory.mktemp("models")))
        try:
            identity.ensure_admin("admin@example.com", ADMIN_TOKEN)
            app = create_app()
            with TestClient(app, headers={"Authorization": f"Token {ADMIN_TOKEN}"}) as api:
                client("s3").create_bucket(Bucket="fuzz-bucket")
                keep = _seed_project(api, backend.url, "fuzz-bucket", _new_user(api, "member@example.com"))
                victims = _seed_project(api, backend.url, "fuzz-bucket", _new_user(api, "other@example.com"))
            schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, config=CONFIG)

            def ids_for(operation) -> dict:
                return victims if operation.method.upper() == "DELETE" else keep

            @schema.hook
            def flatmap_path_parameters(context, path_parameters):
                real = _real_ids(context.operation, ids_for(context.operation))
                return _sometimes(path_parameters, real)

            @schema.hook
            def flatmap_query(context, query):
                return _sometimes(query, _real_references(query, ids_for(context.operation)))

            @schema.hook
            def flatmap_body(context, body):
                return _sometimes(body, _real_references(body, ids_for(context.operation)))

            @schema.hook
            def filter_failure(context, failure, case, response):
                # A documented 501 is labelstack saying what it does not implement, not a crash.
                return not (
                    response.status_code == 501 and "501" in case.operation.definition.raw["responses"]
                )

            yield Stack(schema, Caller(ADMIN_TOKEN))
        finally:
            training.use_local_runner(None)
            backend.close()
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            apply_settings({})


def _operations() -> list[tuple[str, str]]:
    from functions.api.app import create_app

    return [
        (method.upper(), path)
        for path, methods in create_app().openapi()["paths"].items()
        for method in methods
    ]


def _run_order(operation: tuple[str, str]) -> tuple[int, int]:
    """DELETEs last, deepest paths first, so the victims' children go before the victims' project."""
    method, path = operation
    return (method == "DELETE", -path.count("/") if method == "DELETE" else 0)


OPERATIONS = sorted(_operations(), key=_run_order)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_answers_as_documented(stack, method, path):
    operation = stack.schema[path][method]
    caller = stack.caller
    failures = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy(generation_mode=mode))
        def answers_as_documented(case):
            response = case.call(headers=caller.headers())
            caller.follow(case, response)
            case.validate_response(response, checks=CHECKS, headers=caller.headers())

        try:
            answers_as_documented()
        except hypothesis.errors.Unsatisfiable:
            pass  # nothing in the operation's request can be made invalid (no parameters, no body)
        except Exception as exc:  # both modes run; each one's first failure is reported
            failures.append(f"{mode.value}: {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures)
