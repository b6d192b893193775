"""Background jobs in a deployed stack: with LABELSTACK_JOBS_FUNCTION set, a large import is handed to the
jobs Lambda (an asynchronous invocation) instead of a local thread, and the jobs Lambda's handler runs it.
Lambda is moto's without Docker: it accepts the invocation and runs nothing."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from moto import mock_aws

from tests.api.test_projects import create_project

JOBS_FUNCTION = "labelstack-test-jobs"


@pytest.fixture
def aws():
    from infra.local_stack import apply_settings, provision

    with mock_aws(config={"lambda": {"use_docker": False}}):
        apply_settings({})
        provision()
        yield


def _code() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("index.py", "def handler(event, context):\n    return event\n")
    return archive.getvalue()


@pytest.fixture
def jobs_lambda(aws, monkeypatch):
    from functions.settings import get_settings
    from functions.store.aws_clients import client

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = client("iam").create_role(RoleName="jobs", AssumeRolePolicyDocument=json.dumps(trust))
    client("lambda").create_function(
        FunctionName=JOBS_FUNCTION,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="index.handler",
        Code={"ZipFile": _code()},
    )
    monkeypatch.setenv("LABELSTACK_JOBS_FUNCTION", JOBS_FUNCTION)
    monkeypatch.setenv("LABELSTACK_SYNC_IMPORT_LIMIT", "10")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("LABELSTACK_JOBS_FUNCTION")
    monkeypatch.delenv("LABELSTACK_SYNC_IMPORT_LIMIT")
    get_settings.cache_clear()


class LambdaContext:
    function_name = JOBS_FUNCTION
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{JOBS_FUNCTION}"
    aws_request_id = "request-1"


def test_a_large_import_waits_for_the_jobs_lambda_which_runs_it(api, jobs_lambda):
    from functions.handlers import jobs as jobs_handler

    pid = create_project(api)["id"]
    body = api.post(f"/api/projects/{pid}/import", json=[{"text": f"t{i}"} for i in range(12)]).json()
    import_id = body["import"]
    status = api.get(f"/api/projects/{pid}/imports/{import_id}/").json()
    assert status["status"] == "created", status  # queued for the Lambda: nothing ran it here
    assert api.get(f"/api/projects/{pid}").json()["task_number"] == 0

    event = {"job": "import_tasks", "payload": {"import_id": import_id}}
    assert jobs_handler.handler(event, LambdaContext()) == {"ok": True}
    status = api.get(f"/api/projects/{pid}/imports/{import_id}/").json()
    assert status["status"] == "completed", status
    assert api.get(f"/api/projects/{pid}").json()["task_number"] == 12
