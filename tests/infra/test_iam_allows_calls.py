"""Each Lambda's role in the synthesized template allows every AWS call its code makes.

One deployment in moto, named as the template names it (tables, the files bucket, the deliveries queue,
the signing key's secret, the jobs function, the state machine), each function run with the environment
the template gives it, through its real entry point: the API through its routes, the jobs it invokes with
the payloads it sent, the stream consumer on the annotations stream's records, the webhook sender on the
queue's messages, the storage-events function on an S3 notification, the training steps as the state
machine calls them. Every request each makes is recorded (tests/infra/iam_calls.py) and checked against
its role's policy; a call its role does not allow fails, naming the function, action and resource.
"""

from __future__ import annotations

import json
import os

import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from infra.delivery_pump import sqs_event
from tests.infra.iam_calls import ACCOUNT, Call, Deployment, Recorder, allowed, not_allowed
from tests.infra.test_stack import PREFIX
from tests.media import png
from tests.ml_endpoints.support import SENTIMENT_CONFIG, model_server

ADMIN_TOKEN = "iam-admin-token"
ADMIN = {"Authorization": f"Token {ADMIN_TOKEN}"}
ENDPOINT = f"{PREFIX}sentiment"
CUSTOMER_BUCKET = "customer-media"
STORAGE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/labelstack-storage-customer"
HANDLERS = ("api", "jobs", "events", "deliveries", "storage_events", "training")
# Knobs that make small data take the paths large data takes in production (S3 offload, background import).
SMALL_LIMITS = {"LABELSTACK_OFFLOAD_BYTES": "2000", "LABELSTACK_SYNC_IMPORT_LIMIT": "5"}


class LambdaContext:
    def __init__(self, name: str):
        self.function_name = name
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"
        self.aws_request_id = "request"


def choice(label: str) -> list[dict]:
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


class Stack:
    """The deployment in moto, and a way to run code as one of its functions."""

    def __init__(self, template: dict, recorder: Recorder, extra_env: dict[str, str]):
        self.template, self.recorder, self.extra_env = template, recorder, extra_env
        self.deployment = Deployment(template)

    def become(self, handler: str) -> None:
        from infra.local_stack import apply_settings

        for key in [k for k in os.environ if k.startswith("LABELSTACK_")]:
            del os.environ[key]
        apply_settings({**self.deployment.environment(handler), **self.extra_env})

    def run(self, handler: str, call):
        self.become(handler)
        with self.recorder.acting(handler):
            return call()

    def invoke(self, handler: str, event: dict):
        import importlib

        module = importlib.import_module(f"functions.handlers.{handler}")
        return self.run(handler, lambda: module.handler(event, LambdaContext(handler)))

    def provision(self) -> None:
        import boto3

        from functions.services import identity
        from infra.local_stack import create_emulated_endpoint, provision

        secret = boto3.client("secretsmanager").create_secret(
            Name=f"{PREFIX}jwt", SecretString="a-signing-key-that-is-long-enough-for-hs256-0123456789"
        )
        [secret_id] = [
            k for k, r in self.template["Resources"].items() if r["Type"] == "AWS::SecretsManager::Secret"
        ]
        self.deployment = Deployment(self.template, refs={secret_id: secret["ARN"]})
        self.become("events")  # its environment names the tables, the bucket and the deliveries queue
        provision()
        iam = boto3.client("iam")
        role = iam.create_role(RoleName="jobs", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        boto3.client("lambda").create_function(
            FunctionName=f"{PREFIX}jobs",
            Runtime="python3.11",
            Role=role,
            Handler="functions.handlers.jobs.handler",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        )
        [machine_id] = [
            k
            for k, r in self.template["Resources"].items()
            if r["Type"] == "AWS::StepFunctions::StateMachine"
        ]
        boto3.client("stepfunctions").create_state_machine(
            name=self.deployment.name(machine_id),
            definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
            roleArn=role,
        )
        create_emulated_endpoint(ENDPOINT, config_name=f"{PREFIX}sentiment-1", model_name=f"{PREFIX}m1")
        boto3.client("s3").create_bucket(Bucket=CUSTOMER_BUCKET)
        identity.ensure_admin("admin@example.com", ADMIN_TOKEN)


@pytest.fixture(scope="module")
def recorded(default_stack, tmp_path_factory):
    """Every flow run once; what each function asked of AWS."""
    _, template = default_stack
    model_dir = tmp_path_factory.mktemp("model")
    # Each function's environment is put into the process's: the whole environment is given back after,
    # so nothing of it reaches later tests or the processes they start.
    saved_environment = dict(os.environ)
    with (
        pytest.MonkeyPatch.context() as env,
        mock_aws(config={"lambda": {"use_docker": False}}),
        model_server("text_classifier", model_dir) as runtime_url,
    ):
        env.delenv("LABELSTACK_JWT_SECRET")  # the functions read the key from Secrets Manager
        recorder = Recorder(role_access_key=os.environ["AWS_ACCESS_KEY_ID"])
        stack = Stack(
            template.to_json(),
            recorder,
            {
                "LABELSTACK_ALLOWED_HOSTS": "127.0.0.1",
                "LABELSTACK_SAGEMAKER_RUNTIME_URL": runtime_url,
                **SMALL_LIMITS,
            },
        )
        with recorder.installed():
            stack.provision()
            _run_flows(stack)
    from infra.local_stack import apply_settings

    os.environ.clear()
    os.environ.update(saved_environment)
    apply_settings({})
    return stack.deployment, recorder


def _run_flows(stack: Stack) -> None:
    import boto3
    from botocore.client import BaseClient

    from functions.api.app import create_app
    from functions.store.aws_clients import client
    from infra.event_pump import EventPump, _lambda_record
    from tests.api.test_webhooks import Receiver

    # Jobs the functions queue: lambda:Invoke's payloads, run by the jobs function as Lambda would.
    invoked: list[dict] = []
    original_invoke = BaseClient._make_api_call

    def remember_invocations(self, operation, params):
        if operation == "Invoke" and self.meta.service_model.service_name == "lambda":
            invoked.append(json.loads(params["Payload"]))
        return original_invoke(self, operation, params)

    BaseClient._make_api_call = remember_invocations

    def run_jobs():
        while invoked:
            stack.invoke("jobs", invoked.pop(0))

    s3 = boto3.client("s3")
    s3.put_object(Bucket=CUSTOMER_BUCKET, Key="reviews/1.txt", Body=b"I love it")
    receiver = Receiver()
    try:
        stack.become("api")
        with stack.recorder.acting("api"), TestClient(create_app(), headers=ADMIN) as raw:
            api = _Api(raw)
            # Personal access tokens are signed with the key in Secrets Manager.
            refresh = api.post("/api/token/", {})["token"]
            access = api.post("/api/token/refresh/", {"refresh": refresh})["access"]
            assert (
                raw.get("/api/current-user/whoami", headers={"Authorization": f"Bearer {access}"}).status_code
                == 200
            )
            project = api.post(
                "/api/projects",
                {
                    "title": "Reviews",
                    "label_config": SENTIMENT_CONFIG,
                    "min_annotations_to_start_training": 2,
                },
            )
            pid = project["id"]
            long_text = "a long review " * 400  # over the offload size: stored in S3
            ids = api.post(
                f"/api/projects/{pid}/import?return_task_ids=true",
                [{"data": {"text": long_text}}, {"data": {"text": "short"}}],
            )["task_ids"]
            background = api.post(
                f"/api/projects/{pid}/import", [{"data": {"text": f"t{i}"}} for i in range(8)]
            )
            assert "import" in background, background
            run_jobs_later = list(invoked)
        invoked.clear()
        for event in run_jobs_later:
            stack.invoke("jobs", event)
        with stack.recorder.acting("api"), TestClient(create_app(), headers=ADMIN) as raw:
            stack.become("api")
            api = _Api(raw)
            api.get(f"/api/projects/{pid}/imports/{background['import']}")
            assert len(api.get("/api/tasks", params={"project": pid, "fields": "all"})["tasks"]) == 10
            api.get(f"/api/tasks/{ids[0]}")
            api.get(f"/api/projects/{pid}/next")
            first = api.post(f"/api/tasks/{ids[0]}/annotations", {"result": choice("Positive")})
            api.patch(f"/api/annotations/{first['id']}", {"result": choice("Negative")})
            api.post(f"/api/tasks/{ids[1]}/annotations", {"result": choice("Positive")})
            raw.get(
                f"/api/projects/{pid}/export", params={"exportType": "JSON", "download_all_tasks": "true"}
            )
            snapshot = api.post(f"/api/projects/{pid}/exports", {"title": "weekly"})
            # Storages reach the customer's bucket through a role they assume.
            role = {
                "role_arn": STORAGE_ROLE,
                "external_id": "customer-external-id",
                "region_name": "us-east-1",
            }
            source = api.post(
                "/api/storages/s3",
                {
                    "project": pid,
                    "bucket": CUSTOMER_BUCKET,
                    "prefix": "reviews/",
                    "use_blob_urls": True,
                    "presign": True,
                    **role,
                },
            )
            api.post(f"/api/storages/s3/{source['id']}/sync", {})
            api.post(
                "/api/storages/export/s3",
                {
                    "project": pid,
                    "bucket": CUSTOMER_BUCKET,
                    "prefix": "labels",
                    "can_delete_objects": True,
                    **role,
                },
            )
            api.post("/api/webhooks", {"project": pid, "url": receiver.url, "send_payload": True})
            backend = api.post(
                "/api/ml",
                {
                    "project": pid,
                    "kind": "sagemaker",
                    "title": "s",
                    "endpoint_name": ENDPOINT,
                    "region": "us-east-1",
                },
            )
            raw.post(
                "/api/dm/actions",
                params={"id": "retrieve_tasks_predictions", "project": pid},
                json={"selectedItems": {"all": True, "excluded": []}},
            )
            pending = list(invoked)
        invoked.clear()
        for event in pending:
            stack.invoke("jobs", event)
        run_jobs()
        with stack.recorder.acting("api"), TestClient(create_app(), headers=ADMIN) as raw:
            stack.become("api")
            api = _Api(raw)
            snapshot = api.get(f"/api/projects/{pid}/exports/{snapshot['id']}")
            assert snapshot["status"] == "completed", snapshot
            assert (
                raw.get(
                    f"/api/projects/{pid}/exports/{snapshot['id']}/download", follow_redirects=False
                ).status_code
                == 303
            )
            synced = [
                t
                for t in api.get("/api/tasks", params={"project": pid, "fields": "all"})["tasks"]
                if str(t["data"].get("text", "")).startswith("s3://")
            ]
            assert synced, "the source storage's sync imported nothing"
            # A storage's file, presigned for the browser (a link the task's data gets when served).
            link = api.get(f"/api/tasks/{synced[0]['id']}")["data"]["text"]
            assert raw.get(link, follow_redirects=False).status_code == 303

        # The annotations stream, as its event source mapping hands it to the consumer.
        streams = client("dynamodbstreams")
        pump = EventPump()
        arn = pump._stream_arn()
        records = [_lambda_record(r, arn) for r in pump._read(streams, arn)]
        assert records
        answer = stack.invoke("events", {"Records": records})
        assert not answer.get("batchItemFailures"), answer

        # The deliveries queue, as its event source mapping hands it to the sender.
        sqs = client("sqs")
        url = sqs.get_queue_url(
            QueueName=stack.deployment.environment("events")["LABELSTACK_DELIVERIES_QUEUE"]
        )["QueueUrl"]
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
            "Messages", []
        )
        assert messages, "the consumer queued no webhook delivery"
        event = sqs_event(messages, f"arn:aws:sqs:us-east-1:{ACCOUNT}:{url.rsplit('/', 1)[1]}")
        assert not stack.invoke("deliveries", event).get("batchItemFailures")
        assert receiver.requests

        # A new object in the customer's bucket: S3's ObjectCreated notification.
        s3.put_object(Bucket=CUSTOMER_BUCKET, Key="reviews/2 new.txt", Body=b"meh")
        notification = {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": "us-east-1",
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "bucket": {"name": CUSTOMER_BUCKET, "arn": f"arn:aws:s3:::{CUSTOMER_BUCKET}"},
                        "object": {"key": "reviews/2+new.txt", "size": 3},
                    },
                }
            ]
        }
        assert stack.invoke("storage_events", notification)["created"] == 1

        # Training runs, step by step as the state machine invokes the steps function.
        stack.become("api")
        with stack.recorder.acting("api"), TestClient(create_app(), headers=ADMIN) as raw:
            api = _Api(raw)
            runs = api.get(f"/api/ml/{backend['id']}/trainings")
            if not runs or runs[0]["status"] != "running":
                raw.post(f"/api/ml/{backend['id']}/train")
                runs = api.get(f"/api/ml/{backend['id']}/trainings")
        run = runs[0]
        prepared = stack.invoke("training", {"step": "prepare_dataset", "training_id": run["id"]})
        deploy = stack.invoke(
            "training",
            {"step": "deploy_config", "training_id": run["id"], "model_name": prepared["model_name"]},
        )
        assert deploy["variants"]
        stack.invoke(
            "training",
            {
                "step": "record_success",
                "training_id": run["id"],
                "model_version": prepared["endpoint_config_name"],
                "final_metrics": [{"MetricName": "validation:accuracy", "Value": 0.9}],
            },
        )
        with stack.recorder.acting("api"), TestClient(create_app(), headers=ADMIN) as raw:
            stack.become("api")
            assert raw.post(f"/api/ml/{backend['id']}/train").status_code == 200
            second = _Api(raw).get(f"/api/ml/{backend['id']}/trainings")[0]
        stack.invoke(
            "training",
            {
                "step": "record_failure",
                "training_id": second["id"],
                "error": {"Error": "SageMaker.AmazonSageMakerException", "Cause": "no capacity"},
                "execution": "arn:aws:states:us-east-1:123456789012:execution:x:y",
            },
        )
        with stack.recorder.acting("api"), TestClient(create_app(), headers=ADMIN) as raw:
            stack.become("api")
            api = _Api(raw)
            # Media uploaded into the project (put into the files bucket), served back through a
            # presigned URL; the project's deletion below removes it again.
            uploaded = raw.post(
                f"/api/projects/{pid}/import?return_task_ids=true",
                files=[("file", ("cat.png", png(2, 2), "image/png"))],
            )
            assert uploaded.status_code == 201, uploaded.text
            media = api.get(f"/api/tasks/{uploaded.json()['task_ids'][0]}")["data"]["text"]
            assert raw.get(media, follow_redirects=False).status_code == 303
            api.post(
                "/api/dm/actions?id=delete_tasks&project=" + str(pid),
                {"selectedItems": {"all": False, "included": [ids[1]]}},
            )
            assert raw.delete(f"/api/projects/{pid}").status_code == 204
            pending = list(invoked)
        invoked.clear()
        for event in pending:
            stack.invoke("jobs", event)
        run_jobs()
    finally:
        BaseClient._make_api_call = original_invoke
        receiver.close()


class _Api:
    """JSON in, JSON out, failing on any error status."""

    def __init__(self, raw: TestClient):
        self.raw = raw

    def _check(self, response):
        assert response.status_code < 400, (response.request.method, response.request.url, response.text)
        return response.json() if response.content else None

    def get(self, path, params=None):
        return self._check(self.raw.get(path, params=params))

    def post(self, path, body):
        return self._check(self.raw.post(path, json=body))

    def patch(self, path, body):
        return self._check(self.raw.patch(path, json=body))


@pytest.mark.parametrize("handler", HANDLERS)
def test_each_functions_role_allows_every_call_its_code_makes(recorded, handler):
    deployment, recorder = recorded
    calls = recorder.calls.get(handler, [])
    assert calls, f"{handler} made no AWS call: the flow did not reach it"
    assert not_allowed(deployment, handler, calls) == []


def test_the_flows_reach_what_each_function_is_for(recorded):
    _, recorder = recorded
    made = {h: {c.action for c in recorder.calls.get(h, [])} for h in HANDLERS}
    assert {
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "s3:PutObject",
        "s3:GetObject",
        "lambda:InvokeFunction",
        "secretsmanager:GetSecretValue",
        "sagemaker:DescribeEndpoint",
        "sagemaker:InvokeEndpoint",
        "states:StartExecution",
        "sts:AssumeRole",
    } <= made["api"]
    assert {"s3:PutObject", "sts:AssumeRole"} <= made["jobs"]
    assert {"sqs:SendMessage", "sts:AssumeRole"} <= made["events"]
    assert made["deliveries"] & {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:BatchWriteItem",
    }  # its log
    assert {"sts:AssumeRole"} <= made["storage_events"]
    assert {"sagemaker:DescribeEndpointConfig", "s3:PutObject"} <= made["training"]
    # What the storages did in the customer's bucket was signed with the role they assumed, not the
    # function's: the customer's role decides that, not this template.
    assert (
        Call("s3:ListBucket", f"arn:aws:s3:::{CUSTOMER_BUCKET}", "ListObjectsV2") in recorder.foreign["jobs"]
    )


def test_the_checker_refuses_what_no_statement_allows(recorded):
    deployment, _ = recorded
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{PREFIX}tasks"
    files = deployment.environment("api")["LABELSTACK_FILES_BUCKET"]
    statements = deployment.statements("api")
    assert allowed(statements, Call("dynamodb:Query", table))
    assert not allowed(statements, Call("dynamodb:Scan", table))
    assert allowed(statements, Call("s3:GetObject", f"arn:aws:s3:::{files}/tasks/1.json"))
    assert not allowed(statements, Call("s3:GetObject", f"arn:aws:s3:::{CUSTOMER_BUCKET}/reviews/1.txt"))
    assert not allowed(
        statements, Call("sagemaker:InvokeEndpoint", f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/other")
    )
    assert not_allowed(
        deployment, "deliveries", [Call("states:StartExecution", "arn:aws:states:x", "StartExecution")]
    ) == ["deliveries: states:StartExecution on arn:aws:states:x (StartExecution)"]
    # A Deny beats an Allow; a conditional Allow is not counted (conditions are not evaluated here).
    deny = {"Effect": "Deny", "Action": "dynamodb:*", "Resource": table}
    assert not allowed([*statements, deny], Call("dynamodb:Query", table))
    conditional = {
        "Effect": "Allow",
        "Action": "dynamodb:Scan",
        "Resource": table,
        "Condition": {"Bool": {"x": "true"}},
    }
    assert not allowed([conditional], Call("dynamodb:Scan", table))
