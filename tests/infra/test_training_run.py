"""The synthesized training state machine, executed: moto's Amazon States Language interpreter runs the
definition from the template (intrinsics resolved to the deployment's names), started by the API's own
StartExecution, on four paths: success, SageMaker throttling (retried with backoff, then success), a
failed training job, and an endpoint update that ends Failed.

The SageMaker states answer from a mock test case, as in AWS Step Functions Local's mock config (moto's
interpreter has the mocking but no way to load a config, so the test hands the cases to its worker).
The Lambda states are not mocked: the interpreter invokes the steps function through moto's Lambda, and
since there is no Docker here to run a container, moto's Lambda runs the real handler
(functions/handlers/training.py) in this process with the payload the interpreter built, against moto
DynamoDB and S3. So the test sees what a run leaves behind: the states entered (the execution history),
the run's status and the backend's state, version or reason.

Time is virtual: retry intervals and Wait states are recorded, not slept.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from tests.infra.iam_calls import ACCOUNT, Deployment
from tests.infra.test_iam_allows_calls import LambdaContext, choice
from tests.ml_endpoints.support import SENTIMENT_CONFIG, model_server

PREFIX = "labelstack-prod-"  # full_stack's stage: the one with a training image
ENDPOINT = f"{PREFIX}sentiment"
ADMIN = {"Authorization": "Token run-admin-token"}
ARTIFACT = "s3://labelstack-prod-artifacts/models/run/output/model.tar.gz"

TRAINED = {
    "Return": {
        "TrainingJobName": "run",
        "TrainingJobStatus": "Completed",
        "ModelArtifacts": {"S3ModelArtifacts": ARTIFACT},
        "FinalMetricDataList": [{"MetricName": "validation:accuracy", "Value": 0.91, "Timestamp": 0}],
    }
}
THROTTLED = {"Throw": {"Error": "SageMaker.ThrottlingException", "Cause": "Rate exceeded"}}
# AWS names a .sync job that ended Failed States.TaskFailed; moto refuses a mocked error named States.*,
# so the mock throws what the service integration raises for a refused job.
JOB_FAILED = {
    "Throw": {
        "Error": "SageMaker.AmazonSageMakerException",
        "Cause": json.dumps({"TrainingJobStatus": "Failed", "FailureReason": "AlgorithmError: no labels"}),
    }
}
CREATED = {"Return": {"Arn": "created"}}
IN_SERVICE = {"Return": {"EndpointName": ENDPOINT, "EndpointStatus": "InService"}}
ENDPOINT_FAILED = {
    "Return": {
        "EndpointName": ENDPOINT,
        "EndpointStatus": "Failed",
        "FailureReason": "The primary container did not pass the ping health check",
    }
}
SAGEMAKER_OK = {"CreateModel": [CREATED], "CreateEndpointConfig": [CREATED], "UpdateEndpoint": [CREATED]}
CASES = {
    "success": {"TrainingJob": [TRAINED], **SAGEMAKER_OK, "DescribeEndpoint": [IN_SERVICE]},
    "throttled": {
        "TrainingJob": [THROTTLED, THROTTLED, TRAINED],
        **SAGEMAKER_OK,
        "DescribeEndpoint": [IN_SERVICE],
    },
    "jobfailed": {"TrainingJob": [JOB_FAILED]},
    "endpointfailed": {"TrainingJob": [TRAINED], **SAGEMAKER_OK, "DescribeEndpoint": [ENDPOINT_FAILED]},
}
SAGEMAKER_PATH = [
    "Prepare",
    "Kind",
    "TrainingJob",
    "CreateModel",
    "DeployConfig",
    "CreateEndpointConfig",
    "UpdateEndpoint",
    "WaitForEndpoint",
    "DescribeEndpoint",
    "InService",
]


def mock_test_case(machine_name: str, case: str):
    from moto.stepfunctions.parser.mocking.mock_config import (
        MockedResponseReturn,
        MockedResponseThrow,
        MockTestCase,
        StateMockedResponses,
    )

    def response(index: int, answer: dict):
        if "Return" in answer:
            return MockedResponseReturn(index, index, answer["Return"])
        return MockedResponseThrow(index, index, answer["Throw"]["Error"], answer["Throw"]["Cause"])

    return MockTestCase(
        machine_name,
        case,
        [
            StateMockedResponses(state, f"{case}-{state}", [response(i, a) for i, a in enumerate(answers)])
            for state, answers in CASES[case].items()
        ],
    )


class Interpreter:
    """moto's interpreter with virtual time, mock test cases, and the steps function run in-process."""

    def __init__(self, monkeypatch, steps_function: str):
        from moto.awslambda.models import LambdaFunction
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service_unsupported as unsupported,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
            ResourceCondition,
        )
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
            WaitFunction,
        )
        from moto.stepfunctions.parser.backend import execution

        # moto forwards SageMaker tasks to its own SageMaker, which cannot run a training job to completion
        # (.sync); these states are mocked in every case, so the pattern is never evaluated, only accepted.
        monkeypatch.setattr(
            unsupported,
            "_SUPPORTED_INTEGRATION_PATTERNS",
            {ResourceCondition.WaitForTaskToken, ResourceCondition.Sync},
        )
        self.slept: list[float] = []
        self.waited: list[int] = []
        self.step_events: list[dict] = []
        interpreter = self

        class VirtualTime:
            @staticmethod
            def sleep(seconds):
                interpreter.slept.append(seconds)

        monkeypatch.setattr(retrier_decl, "time", VirtualTime)
        monkeypatch.setattr(
            WaitFunction, "_wait_interval", lambda _self, env, wait_seconds: self.waited.append(wait_seconds)
        )
        # moto's executions take no mock test case (it has no config file loader): hand the worker ours.
        self.case = ""
        worker = execution.ExecutionWorker
        monkeypatch.setattr(
            execution,
            "ExecutionWorker",
            lambda **kwargs: worker(**kwargs, mock_test_case=mock_test_case("training", self.case)),
        )
        original = LambdaFunction._invoke_lambda

        def invoke_in_process(function, event=None):
            if function.function_name != steps_function:
                return original(function, event)
            from functions.handlers import training

            payload = json.loads(event) if isinstance(event, str) else event
            interpreter.step_events.append(payload)
            try:
                return json.dumps(training.handler(payload, LambdaContext(steps_function))), False, ""
            except Exception as exc:  # what the Lambda runtime answers for an unhandled exception
                return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}), True, ""

        monkeypatch.setattr(LambdaFunction, "_invoke_lambda", invoke_in_process)


@pytest.fixture(scope="module")
def deployed(full_stack, tmp_path_factory):
    """The training function's deployment in moto, the state machine created from the template, a project
    with annotations and a SageMaker backend; yields (the API client, the backend, the interpreter)."""
    import boto3

    from functions.api.app import create_app
    from functions.services import identity
    from infra.local_stack import apply_settings, create_emulated_endpoint, provision

    template = full_stack[1].to_json()
    deployment = Deployment(template)
    resources = template["Resources"]
    [machine_id] = [k for k, r in resources.items() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    steps_id, steps = deployment.function("training")
    definition = deployment.resolve(resources[machine_id]["Properties"]["DefinitionString"])
    machine_name = deployment.name(machine_id)
    with (
        pytest.MonkeyPatch.context() as patch,
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        model_server("text_classifier", tmp_path_factory.mktemp("model")) as runtime_url,
    ):
        interpreter = Interpreter(patch, deployment.name(steps_id))
        for key in [k for k in os.environ if k.startswith("LABELSTACK_")]:
            patch.delenv(key)
        # The API's environment (the training steps' plus the state machine's ARN, which starts runs); the
        # signing key is given directly rather than read from Secrets Manager.
        env = {
            **deployment.environment("api"),
            "LABELSTACK_JWT_SECRET": "a-signing-key-that-is-long-enough-for-hs256-0123456789",
            "LABELSTACK_SAGEMAKER_RUNTIME_URL": runtime_url,
            "LABELSTACK_ALLOWED_HOSTS": "127.0.0.1",
        }
        env.pop("LABELSTACK_JWT_SECRET_ARN")
        # Background jobs (connecting a backend refreshes the label queue) run on this process's threads:
        # the jobs function is not what this test deploys.
        env.pop("LABELSTACK_JOBS_FUNCTION", None)
        for key, value in env.items():
            patch.setenv(key, value)
        apply_settings({})
        provision()
        role = boto3.client("iam").create_role(RoleName="steps", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        boto3.client("lambda").create_function(
            FunctionName=deployment.name(steps_id),
            Runtime=steps["Runtime"],
            Role=role,
            Handler=steps["Handler"],
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        )
        machine_arn = boto3.client("stepfunctions").create_state_machine(
            name=machine_name, definition=definition, roleArn=role
        )["stateMachineArn"]
        assert machine_arn == env["LABELSTACK_TRAINING_STATE_MACHINE_ARN"]
        create_emulated_endpoint(ENDPOINT, config_name=f"{PREFIX}sentiment-1", model_name=f"{PREFIX}m1")
        identity.ensure_admin("admin@example.com", ADMIN["Authorization"].split()[1])
        with TestClient(create_app(), headers=ADMIN) as api:
            project = api.post(
                "/api/projects", json={"title": "Reviews", "label_config": SENTIMENT_CONFIG}
            ).json()
            tasks = api.post(
                f"/api/projects/{project['id']}/import",
                params={"return_task_ids": "true"},
                json=[{"data": {"text": t}} for t in ("I love it", "I hate it")],
            ).json()["task_ids"]
            for task_id, label in zip(tasks, ("Positive", "Negative"), strict=True):
                api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice(label)})
            backend = api.post(
                "/api/ml",
                json={
                    "project": project["id"],
                    "kind": "sagemaker",
                    "title": "s",
                    "endpoint_name": ENDPOINT,
                    "region": "us-east-1",
                },
            )
            assert backend.status_code == 201, backend.text
            yield api, backend.json(), interpreter, machine_arn
        for key in [k for k in os.environ if k.startswith("LABELSTACK_")]:
            patch.delenv(key, raising=False)
    apply_settings({})


def run_case(deployed, case: str) -> tuple[dict, list[str], dict, dict]:
    """Start a run through the API, as a user does, on the mock test case; wait for it to end. Returns the
    execution, the states entered, the run and the backend as the API shows them."""
    import boto3

    api, backend, interpreter, _ = deployed
    interpreter.case = case
    interpreter.slept.clear()
    assert api.post(f"/api/ml/{backend['id']}/train").status_code == 200
    [run, *_] = api.get(f"/api/ml/{backend['id']}/trainings").json()
    sfn = boto3.client("stepfunctions")
    deadline = time.monotonic() + 60
    while (execution := sfn.describe_execution(executionArn=run["execution"]))["status"] == "RUNNING":
        assert time.monotonic() < deadline, execution
        time.sleep(0.05)
    recorded = stored_version(backend["id"])  # before the API's reads refresh it from the live endpoint
    history = sfn.get_execution_history(executionArn=run["execution"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    run = next(r for r in api.get(f"/api/ml/{backend['id']}/trainings").json() if r["id"] == run["id"])
    shown = api.get(f"/api/ml/{backend['id']}").json()
    return execution, entered, run, {**shown, "recorded_version": recorded}


def stored_version(backend_id: int) -> str:
    from functions.store import ml_backends

    return ml_backends.get(backend_id).model_version


def test_a_successful_run_records_the_new_version_and_its_metrics(deployed):
    execution, entered, run, backend = run_case(deployed, "success")
    assert execution["status"] == "SUCCEEDED", execution
    assert entered == [*SAGEMAKER_PATH, "RecordSageMaker"]
    assert run["status"] == "completed"
    assert run["metrics"] == {"validation:accuracy": 0.91}
    assert backend["state"] == "CO"
    assert run["model_version"] == f"{ENDPOINT}-run{run['id']}"
    # Recorded on the backend; the API shows the endpoint's live config, which the mocked update left as is.
    assert backend["recorded_version"] == run["model_version"]
    assert deployed[2].waited and set(deployed[2].waited) == {30}
    # The dataset the real Prepare step wrote is where the training job was told to read it.
    import boto3

    from functions.settings import get_settings

    listed = boto3.client("s3").list_objects_v2(Bucket=get_settings().files_bucket, Prefix="training/")
    assert any(o["Key"].endswith(f"/{run['id']}/tasks.json") for o in listed.get("Contents", []))


def test_throttling_is_retried_with_backoff_then_the_run_succeeds(deployed):
    execution, entered, run, backend = run_case(deployed, "throttled")
    assert execution["status"] == "SUCCEEDED", execution
    assert entered == [*SAGEMAKER_PATH, "RecordSageMaker"]
    assert deployed[2].slept == [5, 10]  # IntervalSeconds 5, BackoffRate 2
    assert run["status"] == "completed" and backend["state"] == "CO"


def test_a_failed_training_job_ends_the_run_with_its_reason_on_the_backend(deployed):
    execution, entered, run, backend = run_case(deployed, "jobfailed")
    assert execution["status"] == "FAILED" and execution.get("error") == "TrainingFailed", execution
    assert entered == ["Prepare", "Kind", "TrainingJob", "RecordFailure", "Failed"]
    assert run["status"] == "failed" and "AlgorithmError: no labels" in run["error"]
    assert backend["state"] == "ER"
    assert "SageMaker.AmazonSageMakerException" in backend["error_message"]
    assert "AlgorithmError" in backend["error_message"]
    assert f"Training run {run['id']} failed" in backend["error_message"]


def test_an_endpoint_that_fails_its_update_ends_the_run_with_the_reason(deployed):
    previous = stored_version(deployed[1]["id"])
    execution, entered, run, backend = run_case(deployed, "endpointfailed")
    assert execution["status"] == "FAILED", execution
    assert entered == [*SAGEMAKER_PATH, "EndpointFailed", "RecordFailure", "Failed"]
    assert run["status"] == "failed"
    assert backend["state"] == "ER"
    assert "EndpointUpdateFailed" in backend["error_message"]
    assert "ping health check" in backend["error_message"]
    # The failed update leaves the version the last successful run recorded.
    assert backend["recorded_version"] == previous


def test_the_steps_function_got_what_the_definition_passes(deployed):
    events = deployed[2].step_events
    assert {e["step"] for e in events} == {
        "prepare_dataset",
        "deploy_config",
        "record_success",
        "record_failure",
    }
    failure = next(e for e in events if e["step"] == "record_failure")
    assert failure["execution"].startswith(f"arn:aws:states:us-east-1:{ACCOUNT}:execution:")
    assert set(failure["error"]) == {"Error", "Cause"}
