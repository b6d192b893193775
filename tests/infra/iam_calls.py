"""What the functions' code asks of AWS, against what their roles in the synthesized template allow.

`Deployment` resolves the template's intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub) to the physical names
and ARNs CloudFormation would give them in one account and region, so a function's environment and its
role's policy name the same resources. `Recorder` sees every botocore request (API calls and presigned
URLs alike, from any client or session: boto3's, PynamoDB's, ours) with the credentials that sign it, and
turns it into the IAM action and resource AWS authorizes. `allowed` is IAM's evaluation without conditions:
an explicit Deny wins, a conditional Allow does not count.
"""

from __future__ import annotations

import contextlib
import re
import threading
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from botocore.client import BaseClient

ACCOUNT = "123456789012"
REGION = "us-east-1"
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "labelstack",
}


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


class Deployment:
    """The template's resources under the names CloudFormation would give them. `refs` overrides what a
    Ref resolves to (a secret's ARN carries a random suffix: the test takes the emulator's)."""

    def __init__(self, template: dict, refs: dict[str, str] | None = None):
        self.resources: dict[str, dict] = template["Resources"]
        self.refs = refs or {}

    def name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        props = resource.get("Properties", {})
        for key in ("TableName", "BucketName", "QueueName", "StateMachineName", "FunctionName", "RoleName"):
            if key in props:
                return self.resolve(props[key])
        # CloudFormation generates the others' names; lower case suits them all (S3 requires it).
        return logical_id.lower()

    def ref(self, logical_id: str) -> str:
        if logical_id in PSEUDO:
            return PSEUDO[logical_id]
        if logical_id in self.refs:
            return self.refs[logical_id]
        kind, name = self.resources[logical_id]["Type"], self.name(logical_id)
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        if kind == "AWS::StepFunctions::StateMachine":
            return self.get_att(logical_id, "Arn")
        if kind == "AWS::SecretsManager::Secret":
            return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}"
        return name

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind, name = self.resources[logical_id]["Type"], self.name(logical_id)
        arns = {
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}",
        }
        if attribute == "Arn":
            return arns[kind]
        if (kind, attribute) == ("AWS::DynamoDB::Table", "StreamArn"):
            return f"{arns[kind]}/stream/2024-01-01T00:00:00.000"
        if (kind, attribute) in {
            ("AWS::SQS::Queue", "QueueName"),
            ("AWS::StepFunctions::StateMachine", "Name"),
        }:
            return name
        if (kind, attribute) == ("AWS::SQS::Queue", "QueueUrl"):
            return self.ref(logical_id)
        raise KeyError(f"no rule for Fn::GetAtt {logical_id}.{attribute} ({kind})")

    def resolve(self, value):
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        [(key, arg)] = value.items()
        if key == "Ref":
            return self.ref(arg)
        if key == "Fn::GetAtt":
            return self.get_att(*arg) if isinstance(arg, list) else self.get_att(*arg.split(".", 1))
        if key == "Fn::Join":
            return arg[0].join(str(self.resolve(part)) for part in arg[1])
        if key == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            return re.sub(
                r"\$\{([^}]+)\}",
                lambda m: self.ref(m[1]) if "." not in m[1] else self.get_att(*m[1].split(".", 1)),
                text,
            )
        if key.startswith("Fn::"):
            raise KeyError(f"no rule for {key}")
        return {key: self.resolve(arg)}

    # --- the labelstack functions ---------------------------------------------------------------------

    def function(self, handler: str) -> tuple[str, dict]:
        """The logical id and properties of the function running `functions.handlers.<handler>.handler`."""
        [(logical_id, function)] = [
            (k, r)
            for k, r in self.resources.items()
            if r["Type"] == "AWS::Lambda::Function"
            and r["Properties"].get("Handler") == f"functions.handlers.{handler}.handler"
        ]
        return logical_id, function["Properties"]

    def environment(self, handler: str) -> dict[str, str]:
        _, props = self.function(handler)
        return {k: str(v) for k, v in self.resolve(props["Environment"]["Variables"]).items()}

    def statements(self, handler: str) -> list[dict]:
        """The resolved statements of the inline policies attached to the function's role. (Its managed
        policy is AWSLambdaBasicExecutionRole: CloudWatch Logs, which the runtime writes, not the code.)"""
        _, props = self.function(handler)
        role = props["Role"]["Fn::GetAtt"][0]
        return [
            self.resolve(statement)
            for r in self.resources.values()
            if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]
            for statement in r["Properties"]["PolicyDocument"]["Statement"]
        ]


@dataclass(frozen=True)
class Call:
    action: str  # as IAM spells it: dynamodb:Query
    resource: str  # the ARN IAM authorizes it on
    operation: str = ""  # the API operation that made it, for the report


def allowed(statements: list[dict], call: Call) -> bool:
    verdict = False
    for statement in statements:
        if "NotAction" in statement or "NotResource" in statement:
            raise ValueError(f"NotAction/NotResource are not evaluated here: {statement}")
        if not any(fnmatchcase(call.action.lower(), a.lower()) for a in as_list(statement["Action"])):
            continue
        if not any(fnmatchcase(call.resource, r) for r in as_list(statement["Resource"])):
            continue
        if statement["Effect"] == "Deny":
            return False
        if "Condition" not in statement:
            verdict = True
    return verdict


# --- botocore requests as IAM calls ----------------------------------------------------------------------

# Operations IAM authorizes under another action's name.
_S3_ACTIONS = {
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
    "HeadBucket": "ListBucket",
    "HeadObject": "GetObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "DeleteObjects": "DeleteObject",
}
_ACTIONS = {
    ("lambda", "Invoke"): "InvokeFunction",
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("dynamodb", "TransactGetItems"): "GetItem",
}
_TRANSACT = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _dynamodb(operation: str, params: dict, signing: str) -> list[Call]:
    def table(name: str, index: str | None = None) -> str:
        arn = name if name.startswith("arn:") else f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    if "RequestItems" in params:  # BatchGetItem, BatchWriteItem
        return [Call(f"{signing}:{operation}", table(name), operation) for name in params["RequestItems"]]
    if operation == "TransactWriteItems":
        return [
            Call(f"{signing}:{_TRANSACT[kind]}", table(spec["TableName"]), operation)
            for item in params["TransactItems"]
            for kind, spec in item.items()
        ]
    if operation == "TransactGetItems":
        return [
            Call(f"{signing}:GetItem", table(i["Get"]["TableName"]), operation)
            for i in params["TransactItems"]
        ]
    if "StreamArn" in params:
        return [Call(f"{signing}:{operation}", params["StreamArn"], operation)]
    return [Call(f"{signing}:{operation}", table(params["TableName"], params.get("IndexName")), operation)]


def _s3(operation: str, params: dict) -> list[Call]:
    action = "s3:" + _S3_ACTIONS.get(operation, operation)
    bucket = params["Bucket"]
    if operation == "DeleteObjects":
        return [
            Call(action, f"arn:aws:s3:::{bucket}/{o['Key']}", operation) for o in params["Delete"]["Objects"]
        ]
    if operation == "CopyObject":
        source = params["CopySource"]
        source = source if isinstance(source, str) else f"{source['Bucket']}/{source['Key']}"
        return [
            Call("s3:PutObject", f"arn:aws:s3:::{bucket}/{params['Key']}", operation),
            Call("s3:GetObject", f"arn:aws:s3:::{source.lstrip('/')}", operation),
        ]
    if "Key" in params and action != "s3:ListBucket":
        return [Call(action, f"arn:aws:s3:::{bucket}/{params['Key']}", operation)]
    return [Call(action, f"arn:aws:s3:::{bucket}", operation)]


def _resource(service: str, operation: str, params: dict) -> str:
    if service == "sqs":
        name = params["QueueUrl"].rsplit("/", 1)[1] if "QueueUrl" in params else params["QueueName"]
        return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    if service == "lambda":
        name = params["FunctionName"]
        return name if name.startswith("arn:") else f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    if service == "states":
        return params.get("stateMachineArn") or params["executionArn"]
    if service == "sagemaker":
        # SageMaker's ARNs carry names in lower case.
        for key, kind in (
            ("EndpointName", "endpoint"),
            ("EndpointConfigName", "endpoint-config"),
            ("ModelName", "model"),
        ):
            if key in params:
                return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{params[key].lower()}"
    if service == "sts" and operation == "AssumeRole":
        return params["RoleArn"]
    if service == "secretsmanager":
        secret = params["SecretId"]
        return (
            secret
            if secret.startswith("arn:")
            else f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}"
        )
    raise KeyError(f"no resource rule for {service}:{operation}: teach tests/infra/iam_calls.py")


def iam_calls(signing_name: str, operation: str, params: dict) -> list[Call]:
    if signing_name == "dynamodb":
        return _dynamodb(operation, params, signing_name)
    if signing_name == "s3":
        return _s3(operation, params)
    action = f"{signing_name}:{_ACTIONS.get((signing_name, operation), operation)}"
    return [Call(action, _resource(signing_name, operation, params), operation)]


@dataclass
class Recorder:
    """Every AWS request made while a function is `acting`, under that function's name: those signed with
    the function's own credentials (its role) in `calls`, those signed with other credentials (a storage's
    keys, a role it assumed) in `foreign`."""

    role_access_key: str
    calls: dict[str, list[Call]] = field(default_factory=dict)
    foreign: dict[str, list[Call]] = field(default_factory=dict)
    _acting: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, client: BaseClient, operation: str, params: dict) -> None:
        if self._acting is None:
            return  # the test's own set-up and reads, or the Lambda service's (stream, queue) part
        credentials = client._request_signer._credentials
        access_key = credentials.get_frozen_credentials().access_key if credentials else None
        signing_name = client.meta.service_model.signing_name
        found = iam_calls(signing_name, operation, params)
        with self._lock:
            target = self.calls if access_key == self.role_access_key else self.foreign
            target.setdefault(self._acting, []).extend(found)

    @contextlib.contextmanager
    def acting(self, function: str):
        previous, self._acting = self._acting, function
        try:
            yield
        finally:
            self._acting = previous

    @contextlib.contextmanager
    def installed(self):
        original = BaseClient._emit_api_params
        recorder = self

        def emit_api_params(client, api_params, operation_model, context):
            recorder.record(client, operation_model.name, api_params)
            return original(client, api_params, operation_model, context)

        BaseClient._emit_api_params = emit_api_params
        try:
            yield self
        finally:
            BaseClient._emit_api_params = original


def not_allowed(deployment: Deployment, handler: str, calls: list[Call]) -> list[str]:
    statements = deployment.statements(handler)
    return sorted(
        {
            f"{handler}: {c.action} on {c.resource} ({c.operation})"
            for c in calls
            if not allowed(statements, c)
        }
    )
