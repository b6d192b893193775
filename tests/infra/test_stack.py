"""The synthesized template (aws_cdk.assertions): tables equal the PynamoDB models, data is encrypted and
private, IAM is least privilege, CloudFront routes the API, alarms exist, cdk-nag is on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk.assertions import Match

from functions.store.models import ALL_MODELS, TTLAttribute
from infra.aws.web import API_PATHS
from tests.infra.conftest import STAGE, synth

PREFIX = f"labelstack-{STAGE}-"


def resources(template, kind: str) -> dict[str, dict]:
    return template.find_resources(kind)


def tables_by_name(template) -> dict[str, dict]:
    return {
        table["Properties"]["TableName"]: table["Properties"]
        for table in resources(template, "AWS::DynamoDB::Table").values()
    }


def key_set(schema: list[dict]) -> set[tuple[str, str]]:
    return {(key["AttributeName"], key["KeyType"]) for key in schema}


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.TABLE)
def test_each_table_equals_its_pynamodb_model(default_stack, model):
    _, template = default_stack
    table = tables_by_name(template)[PREFIX + model.TABLE]
    schema = model._get_schema()  # what PynamoDB's create_table sends: the local stack's tables

    assert key_set(table["KeySchema"]) == key_set(schema["key_schema"])
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == {
        (a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]
    }
    deployed = {gsi["IndexName"]: gsi for gsi in table.get("GlobalSecondaryIndexes", [])}
    declared = {gsi["index_name"]: gsi for gsi in schema.get("global_secondary_indexes", [])}
    assert deployed.keys() == declared.keys()
    for name, gsi in declared.items():
        assert key_set(deployed[name]["KeySchema"]) == key_set(gsi["key_schema"]), name
        projection = deployed[name]["Projection"]
        assert projection["ProjectionType"] == gsi["projection"]["ProjectionType"], name
        assert set(projection.get("NonKeyAttributes", [])) == set(
            gsi["projection"].get("NonKeyAttributes", [])
        )
    ttl = [name for name, attr in model.get_attributes().items() if isinstance(attr, TTLAttribute)]
    if ttl:
        assert table["TimeToLiveSpecification"] == {"AttributeName": ttl[0], "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in table
    stream = getattr(model, "STREAM_VIEW", None)
    if stream:
        assert table["StreamSpecification"] == {"StreamViewType": stream}
    else:
        assert "StreamSpecification" not in table
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_no_table_without_a_model(default_stack):
    _, template = default_stack
    assert set(tables_by_name(template)) == {PREFIX + model.TABLE for model in ALL_MODELS}


def test_tables_and_buckets_follow_the_removal_policy(default_stack):
    _, template = default_stack
    for kind in ("AWS::DynamoDB::Table", "AWS::S3::Bucket"):
        for logical_id, resource in resources(template, kind).items():
            assert resource["DeletionPolicy"] == "Retain", logical_id


def test_every_bucket_is_encrypted_versioned_private_and_tls_only(full_stack):
    _, template = full_stack
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 4  # access logs, files, artifacts, web
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], logical_id
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, logical_id
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, logical_id
    tls_only = {
        policy["Properties"]["Bucket"]["Ref"]
        for policy in resources(template, "AWS::S3::BucketPolicy").values()
        if any(
            statement["Effect"] == "Deny"
            and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        )
    }
    assert tls_only == set(buckets)
    logged = {
        logical_id for logical_id, bucket in buckets.items() if "LoggingConfiguration" in bucket["Properties"]
    }
    assert len(logged) == 3  # all but the access-log bucket itself


def policy_statements(template):
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for logical_id, policy in resources(template, kind).items():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                resource = statement["Resource"]
                yield logical_id, actions, resource if isinstance(resource, list) else [resource]


# Actions on data: these must always name their resources.
DATA_PLANE = (
    "dynamodb:",
    "s3:",
    "sqs:",
    "sns:Publish",
    "secretsmanager:",
    "kms:",
    "sagemaker:Invoke",
    "lambda:Invoke",
    "states:",
)


def test_no_wildcard_resource_on_data_plane_actions(full_stack):
    _, template = full_stack
    seen = 0
    for logical_id, actions, resources_ in policy_statements(template):
        seen += 1
        assert not any(action == "*" or action.endswith(":*") for action in actions), (logical_id, actions)
        if "*" in resources_:
            # What is left is X-Ray's trace upload, ECR's login and CDK's own CloudFront invalidation.
            assert not [a for a in actions if a.startswith(DATA_PLANE) and a != "dynamodb:ListStreams"], (
                logical_id,
                actions,
            )
    assert seen > 10


def statements_of(template, handler: str):
    """The policy statements of the role of the function running `functions.handlers.<handler>.handler`."""
    functions = resources(template, "AWS::Lambda::Function")
    [role] = [
        f["Properties"]["Role"]["Fn::GetAtt"][0]
        for f in functions.values()
        if f["Properties"]["Handler"] == f"functions.handlers.{handler}.handler"
    ]
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            yield from policy["Properties"]["PolicyDocument"]["Statement"]


def test_the_api_reads_and_writes_its_tables_by_name_and_never_scans(default_stack):
    _, template = default_stack
    statements = list(statements_of(template, "api"))
    dynamodb = [s for s in statements if any(a.startswith("dynamodb:") for a in s["Action"])]
    assert len(dynamodb) == 1
    assert "dynamodb:Scan" not in dynamodb[0]["Action"]
    table_ids = set(resources(template, "AWS::DynamoDB::Table"))
    granted = {ref["Fn::GetAtt"][0] for ref in dynamodb[0]["Resource"] if "Fn::GetAtt" in ref}
    granted |= {
        ref["Fn::Join"][1][0]["Fn::GetAtt"][0] for ref in dynamodb[0]["Resource"] if "Fn::Join" in ref
    }
    assert granted == table_ids
    index_arns = [ref for ref in dynamodb[0]["Resource"] if "Fn::Join" in ref]
    assert len(index_arns) == sum(
        len(m._get_schema().get("global_secondary_indexes", [])) for m in ALL_MODELS
    )
    assert all("*" not in json.dumps(ref) for ref in index_arns)


def test_sagemaker_invoke_is_scoped_to_the_endpoint_prefix(default_stack):
    _, template = default_stack
    for handler in ("api", "jobs"):
        invoke = [s for s in statements_of(template, handler) if "sagemaker:InvokeEndpoint" in s["Action"]]
        assert len(invoke) == 1
        assert json.dumps(invoke[0]["Resource"]).endswith(f':endpoint/{PREFIX}*"]]}}')
    assert not [s for s in statements_of(template, "events") if "sagemaker:InvokeEndpoint" in s["Action"]]


def test_lambdas_are_arm64_on_the_bundling_python_with_tracing(default_stack):
    _, template = default_stack
    # labelstack's own functions (CDK adds handlers of its own custom resources, such as index.handler)
    functions = {
        logical_id: f["Properties"]
        for logical_id, f in resources(template, "AWS::Lambda::Function").items()
        if f["Properties"]["Handler"].startswith("functions.")
    }
    handlers = {props["Handler"] for props in functions.values()}
    assert handlers == {
        "functions.handlers.api.handler",
        "functions.handlers.jobs.handler",
        "functions.handlers.events.handler",
        "functions.handlers.deliveries.handler",
        "functions.handlers.training.handler",
        "functions.handlers.storage_events.handler",
    }
    for props in functions.values():
        assert props["Architectures"] == ["arm64"]
        assert props["Runtime"] == f"python{sys.version_info.major}.{sys.version_info.minor}"
        assert props["TracingConfig"] == {"Mode": "Active"}
        env = props["Environment"]["Variables"]
        assert env["LABELSTACK_TABLE_PREFIX"] == PREFIX
        assert env["LABELSTACK_JOBS_FUNCTION"] == f"{PREFIX}jobs"
        assert env["LABELSTACK_SAGEMAKER_ENDPOINT_PREFIX"] == PREFIX
        assert "LABELSTACK_JWT_SECRET" not in env  # the key itself stays in Secrets Manager
        assert "Ref" in env["LABELSTACK_JWT_SECRET_ARN"]
    api = next(props for props in functions.values() if props["Handler"] == "functions.handlers.api.handler")
    assert api["Timeout"] <= 29  # the HTTP API gives up at 30 s
    jobs = next(
        logical_id
        for logical_id, props in functions.items()
        if props["Handler"] == "functions.handlers.jobs.handler"
    )
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig", {"FunctionName": {"Ref": jobs}, "MaximumRetryAttempts": 0}
    )


def test_http_api_stage_is_throttled_and_logged(default_stack):
    _, template = default_stack
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingRateLimit": 200, "ThrottlingBurstLimit": 400},
            "AccessLogSettings": {"DestinationArn": Match.any_value(), "Format": Match.any_value()},
        },
    )


def test_the_stream_consumer_reports_partial_failures_and_has_a_dead_letter_queue(default_stack):
    _, template = default_stack
    mapping = next(iter(resources(template, "AWS::Lambda::EventSourceMapping").values()))["Properties"]
    annotations = next(
        logical_id
        for logical_id, t in resources(template, "AWS::DynamoDB::Table").items()
        if t["Properties"]["TableName"] == PREFIX + "annotations"
    )
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [annotations, "StreamArn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert "OnFailure" in mapping["DestinationConfig"]
    queues = resources(template, "AWS::SQS::Queue")
    assert len(queues) == 3
    redriven = [q for q in queues.values() if "RedrivePolicy" in q["Properties"]]
    assert len(redriven) == 1 and redriven[0]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True


def test_cloudfront_routes_the_api_to_the_http_api_and_the_rest_to_s3(default_stack):
    _, template = default_stack
    distribution = next(iter(resources(template, "AWS::CloudFront::Distribution").values()))["Properties"]
    config = distribution["DistributionConfig"]
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(behaviors) == set(API_PATHS)
    assert "/data/upload/*" in behaviors  # uploaded media: the API checks membership, then redirects
    api_origin = origins[behaviors["/api/*"]["TargetOriginId"]]
    assert "HttpApi" in json.dumps(api_origin["DomainName"])
    assert api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    for behavior in behaviors.values():
        assert behavior["TargetOriginId"] == behaviors["/api/*"]["TargetOriginId"]
        assert behavior["AllowedMethods"] == ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
        assert behavior["ViewerProtocolPolicy"] == "https-only"
        assert behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    default = config["DefaultCacheBehavior"]
    site_origin = origins[default["TargetOriginId"]]
    assert "OriginAccessControlId" in site_origin and "S3OriginConfig" in site_origin
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "index.html"
    assert "Logging" in config


def test_a_custom_domain_gets_its_certificate_and_tls_1_2(full_stack):
    _, template = full_stack
    distribution = next(iter(resources(template, "AWS::CloudFront::Distribution").values()))["Properties"]
    config = distribution["DistributionConfig"]
    assert config["Aliases"] == ["label.example.com"]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    template.has_output("WebUrl", {"Value": "https://label.example.com"})
    template.resource_count_is("Custom::CDKBucketDeployment", 1)


def alarm_metrics(template) -> list[tuple[str, str]]:
    return [
        (a["Properties"]["Namespace"], a["Properties"]["MetricName"])
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
    ]


def test_alarms_on_lambda_errors_throttles_and_dead_letters_go_to_one_topic(full_stack):
    _, template = full_stack
    metrics = alarm_metrics(template)
    own = [
        f
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"].startswith("functions.")
    ]
    assert metrics.count(("AWS/Lambda", "Errors")) == len(own) >= 4
    assert metrics.count(("AWS/Lambda", "Throttles")) == len(own)
    assert metrics.count(("AWS/SQS", "ApproximateNumberOfMessagesVisible")) == 2
    topic = next(iter(resources(template, "AWS::SNS::Topic")))
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic}]
        assert alarm["Properties"]["Threshold"] == 1
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_the_builtin_model_runs_as_a_serverless_endpoint_under_the_prefix(full_stack, default_stack):
    _, template = full_stack
    template.has_resource_properties("AWS::SageMaker::Endpoint", {"EndpointName": "labelstack-prod-builtin"})
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ProductionVariants": [
                Match.object_like({"ServerlessConfig": Match.object_like({"MemorySizeInMB": 2048})})
            ]
        },
    )
    template.has_output("BuiltinModelEndpoint", {"Value": "labelstack-prod-builtin"})
    default_stack[1].resource_count_is("AWS::SageMaker::Endpoint", 0)


def test_outputs_name_the_web_and_api_urls(default_stack):
    _, template = default_stack
    outputs = template.find_outputs("*")
    assert {"WebUrl", "ApiUrl", "TablePrefix"} <= set(outputs)
    assert outputs["TablePrefix"]["Value"] == PREFIX


def test_an_unacknowledged_cdk_nag_finding_fails_the_synth(monkeypatch):
    from aws_cdk import aws_iam as iam

    from infra.aws.api import Api

    original = Api.__init__

    def with_a_wildcard(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.api_function.add_to_role_policy(iam.PolicyStatement(actions=["dynamodb:*"], resources=["*"]))

    monkeypatch.setattr(Api, "__init__", with_a_wildcard)
    with pytest.raises(Exception, match="AwsSolutions-IAM5"):
        synth({"stage": "nag"})


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"stage": "has spaces"}, "context stage"),
        ({"removalPolicy": "keep"}, "context removalPolicy"),
        ({"domainName": "label.example.com"}, "domainName and certificateArn"),
        ({"logRetention": "FOREVER_AND_A_DAY"}, "context logRetention"),
    ],
)
def test_bad_stage_settings_are_refused_by_name(context, message):
    with pytest.raises(ValueError, match=message):
        synth(context)


# Two warnings about what CDK itself writes: a DependsOn beside the GetAtt it duplicates (W3005), and the
# log-delivery ACL CloudFront's standard logging still requires on the access-log bucket (W3045).
CFN_LINT_ACCEPTED = ("W3005", "W3045")


def test_the_templates_pass_cfn_lint(default_stack, full_stack, tmp_path):
    for name, (_stack, template) in {"default": default_stack, "full": full_stack}.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(template.to_json()))
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "cfn-lint"),
                "--format",
                "parseable",
                "--ignore-checks",
                *CFN_LINT_ACCEPTED,
                "--",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_webhook_deliveries_have_a_consumer_with_partial_batch_failures_and_a_dead_letter_queue(
    default_stack,
):
    _, template = default_stack
    functions = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "functions.handlers.deliveries.handler"}}
    )
    [(name, function)] = functions.items()
    queue_env = function["Properties"]["Environment"]["Variables"]["LABELSTACK_DELIVERIES_QUEUE"]
    [(queue_id, queue)] = [
        (k, q)
        for k, q in template.find_resources("AWS::SQS::Queue").items()
        if "RedrivePolicy" in q["Properties"] and q["Properties"]["RedrivePolicy"].get("maxReceiveCount") == 5
    ]
    assert queue_env == {"Fn::GetAtt": [queue_id, "QueueName"]}
    # Lambda needs the queue's visibility timeout to be at least the function's timeout.
    assert queue["Properties"]["VisibilityTimeout"] >= function["Properties"]["Timeout"]
    mappings = template.find_resources(
        "AWS::Lambda::EventSourceMapping", {"Properties": {"FunctionName": {"Ref": name}}}
    )
    [(_, mapping)] = mappings.items()
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    # The stream consumer queues deliveries and knows the queue by the same name.
    consumer = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "functions.handlers.events.handler"}}
    )
    [(_, events_fn)] = consumer.items()
    assert events_fn["Properties"]["Environment"]["Variables"]["LABELSTACK_DELIVERIES_QUEUE"] == queue_env


def test_the_site_is_served_with_the_apps_security_headers(default_stack):
    from functions.api.middleware import CONTENT_SECURITY_POLICY

    _, template = default_stack
    [policy] = resources(template, "AWS::CloudFront::ResponseHeadersPolicy").values()
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["ContentSecurityPolicy"] == {
        "ContentSecurityPolicy": CONTENT_SECURITY_POLICY,
        "Override": True,
    }
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 365 * 86400
    distribution = next(iter(resources(template, "AWS::CloudFront::Distribution").values()))
    default = distribution["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert default["ResponseHeadersPolicyId"] == {
        "Ref": next(iter(resources(template, "AWS::CloudFront::ResponseHeadersPolicy")))
    }


def test_only_the_files_bucket_answers_browsers_cross_origin_and_only_reads(default_stack):
    """Uploaded media is read through presigned URLs of the files bucket (the Label Studio Frontend fetches
    audio for its waveform): a CORS rule for GET and HEAD; no other bucket has one."""
    _, template = default_stack
    with_cors = {
        logical_id: bucket["Properties"]["CorsConfiguration"]["CorsRules"]
        for logical_id, bucket in resources(template, "AWS::S3::Bucket").items()
        if "CorsConfiguration" in bucket["Properties"]
    }
    assert len(with_cors) == 1 and next(iter(with_cors)).startswith("DataFiles")
    [rule] = next(iter(with_cors.values()))
    assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD"]
    assert rule["AllowedOrigins"] == ["*"]


def test_bucket_notifications_can_invoke_the_storage_events_function_of_this_account_only(default_stack):
    _, template = default_stack
    [(function_id, _)] = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "functions.handlers.storage_events.handler"}}
    ).items()
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]},
            "Principal": "s3.amazonaws.com",
            "SourceAccount": {"Ref": "AWS::AccountId"},
        },
    )
    template.has_output("StorageEventsFunction", {"Value": {"Fn::GetAtt": [function_id, "Arn"]}})
    for handler in ("api", "jobs", "storage_events", "events"):
        assumes = [s for s in statements_of(template, handler) if s["Action"] == "sts:AssumeRole"]
        assert len(assumes) == 1 and json.dumps(assumes[0]["Resource"]).endswith(
            ':role/labelstack-storage-*"]]}'
        )
