"""The training state machine in the synthesized template: its states, retries and catches, and IAM
limited to the training image, the datasets and artifacts, and the stage's endpoints."""

from __future__ import annotations

import itertools
import json

from tests.infra.test_stack import resources, statements_of

RETRIED = {"SageMaker.ThrottlingException", "ThrottlingException", "Lambda.TooManyRequestsException"}


def definition(template) -> dict:
    [machine] = resources(template, "AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(part if isinstance(part, str) else "TOKEN" for part in parts))


def test_the_states_of_a_run(full_stack):
    states = definition(full_stack[1])["States"]
    assert set(states) == {
        "Prepare",
        "Kind",
        "TrainHttp",
        "RecordHttp",
        "TrainingJob",
        "CreateModel",
        "DeployConfig",
        "CreateEndpointConfig",
        "UpdateEndpoint",
        "WaitForEndpoint",
        "DescribeEndpoint",
        "InService",
        "EndpointFailed",
        "RecordSageMaker",
        "RecordFailure",
        "Failed",
    }
    kind = states["Kind"]
    assert kind["Choices"][0]["StringEquals"] == "http" and kind["Choices"][0]["Next"] == "TrainHttp"
    assert kind["Default"] == "TrainingJob"
    chain = [
        "TrainingJob",
        "CreateModel",
        "DeployConfig",
        "CreateEndpointConfig",
        "UpdateEndpoint",
        "WaitForEndpoint",
        "DescribeEndpoint",
        "InService",
    ]
    for here, there in itertools.pairwise(chain):
        assert states[here]["Next"] == there
    in_service = states["InService"]
    assert [c["Next"] for c in in_service["Choices"]] == ["RecordSageMaker", "EndpointFailed"]
    assert in_service["Default"] == "WaitForEndpoint"
    assert states["TrainingJob"]["Resource"].endswith(":states:::sagemaker:createTrainingJob.sync")
    job = states["TrainingJob"]["Parameters"]
    assert job["AlgorithmSpecification"]["TrainingImage"] == (
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/labelstack-model:1"
    )
    assert job["AlgorithmSpecification"]["MetricDefinitions"][0]["Name"] == "validation:accuracy"
    assert job["InputDataConfig"][0]["ChannelName"] == "training"
    assert states["UpdateEndpoint"]["Resource"].endswith(":states:::aws-sdk:sagemaker:updateEndpoint")
    assert states["RecordFailure"]["Next"] == "Failed" and states["Failed"]["Type"] == "Fail"


def test_every_task_retries_throttling_and_catches_into_record_failure(full_stack):
    states = definition(full_stack[1])["States"]
    tasks = {name: state for name, state in states.items() if state["Type"] == "Task"}
    assert len(tasks) == 11
    for name, state in tasks.items():
        retried = {error for retry in state["Retry"] for error in retry["ErrorEquals"]}
        assert retried >= RETRIED, name
        assert all(retry["BackoffRate"] == 2 for retry in state["Retry"] if "BackoffRate" in retry), name
        if name == "RecordFailure":
            assert "Catch" not in state
            continue
        assert state["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}
        ], name


def test_without_a_training_image_sagemaker_runs_fail_with_the_reason(default_stack):
    states = definition(default_stack[1])["States"]
    assert "TrainingJob" not in states
    assert states["Kind"]["Default"] == "NoTrainingImage"
    assert states["NoTrainingImage"]["Next"] == "RecordFailure"
    assert "modelImageUri" in states["NoTrainingImage"]["Parameters"]["Cause"]


def role_statements(template, role_prefix: str) -> list[dict]:
    roles = [
        logical_id
        for logical_id in resources(template, "AWS::IAM::Role")
        if logical_id.startswith(role_prefix)
    ]
    found = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if any({"Ref": role} in policy["Properties"]["Roles"] for role in roles):
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def as_list(value):
    return value if isinstance(value, list) else [value]


def test_iam_is_limited_to_the_image_the_data_and_the_endpoints(full_stack):
    _, template = full_stack
    sagemaker_role = next(
        k for k in resources(template, "AWS::IAM::Role") if k.startswith("TrainingSageMakerRole")
    )
    everywhere = [
        s
        for kind in ("AWS::IAM::Policy",)
        for p in resources(template, kind).values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    passes = [s for s in everywhere if "iam:PassRole" in as_list(s["Action"])]
    assert passes and all(s["Resource"] == {"Fn::GetAtt": [sagemaker_role, "Arn"]} for s in passes)

    role = role_statements(template, "TrainingSageMakerRole")
    s3 = [
        json.dumps(r)
        for s in role
        if any(a.startswith("s3:") for a in as_list(s["Action"]))
        for r in as_list(s["Resource"])
    ]
    assert all('"/training/*"' in r or '"/models/*"' in r or r.startswith('{"Fn::GetAtt"') for r in s3), s3
    ecr = [s for s in role if "ecr:BatchGetImage" in as_list(s["Action"])]
    assert len(ecr) == 1 and json.dumps(ecr[0]["Resource"]).endswith(':repository/labelstack-model"]]}')

    machine = role_statements(template, "TrainingStateMachineRole")
    for statement in machine:
        for action in as_list(statement["Action"]):
            if action.lower().startswith(
                (
                    "sagemaker:createmodel",
                    "sagemaker:createendpointconfig",
                    "sagemaker:updateendpoint",
                    "sagemaker:describeendpoint",
                )
            ):
                assert all("/labelstack-prod-*" in json.dumps(r) for r in as_list(statement["Resource"])), (
                    action
                )


def test_the_api_and_the_stream_consumer_may_start_runs(default_stack):
    _, template = default_stack
    [machine] = resources(template, "AWS::StepFunctions::StateMachine")
    for handler in ("api", "jobs", "events"):
        starts = [
            s for s in statements_of(template, handler) if "states:StartExecution" in as_list(s["Action"])
        ]
        assert starts and starts[0]["Resource"] == {"Ref": machine}, handler
    for function in resources(template, "AWS::Lambda::Function").values():
        if function["Properties"]["Handler"] in {
            f"functions.handlers.{h}.handler" for h in ("api", "jobs", "events")
        }:
            env = function["Properties"]["Environment"]["Variables"]
            assert env["LABELSTACK_TRAINING_STATE_MACHINE_ARN"] == {"Ref": machine}


def test_the_training_service_leaves_aws_to_the_store():
    """Step Functions and SageMaker are called from functions/store's adapters, not from the service."""
    import ast
    from pathlib import Path

    source = Path(__file__).resolve().parents[2] / "functions" / "services" / "training.py"
    imported = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    assert not {name for name in imported if name.split(".")[0] in ("boto3", "botocore", "pynamodb")}
    assert "functions.store.aws_clients" not in imported
