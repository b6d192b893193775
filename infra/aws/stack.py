"""The labelstack stack: data, API, web, events, ML access and monitoring, composed from small constructs.

cdk-nag's AwsSolutions checks run over it at synth (`infra/app.py`); each finding the design accepts is
suppressed here, next to the resource, with the reason.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Acknowledgment, CfnOutput, Stack, Token, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.aws.api import Api
from infra.aws.app_functions import AppFunctions
from infra.aws.buckets import private_bucket
from infra.aws.data import Data
from infra.aws.events import Events
from infra.aws.ml import MODEL_PREFIX, ModelEndpoints
from infra.aws.monitoring import Monitoring
from infra.aws.stage import Stage
from infra.aws.training import Training
from infra.aws.web import Web


class LabelstackStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        code: lambda_.Code,
        runtime: lambda_.Runtime,
        site_dir: Path | None = None,
        **kwargs,
    ):
        super().__init__(scope, construct_id, **kwargs)
        # CloudFront's standard logs are written with ACLs.
        self.access_logs = private_bucket(
            self, "AccessLogs", stage, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED
        )
        self.data = Data(self, "Data", stage=stage, access_logs=self.access_logs)
        jwt_secret = secretsmanager.Secret(
            self,
            "JwtSigningKey",
            description="Signs labelstack access tokens (HS256)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
            removal_policy=stage.removal_policy,
        )
        jobs_function_name = f"{stage.resource_prefix}jobs"
        functions = AppFunctions(
            stage=stage,
            data=self.data,
            code=code,
            runtime=runtime,
            jwt_secret=jwt_secret,
            jobs_function_name=jobs_function_name,
        )
        self.api = Api(self, "Api", stage=stage, functions=functions, jobs_function_name=jobs_function_name)
        self.web = Web(
            self,
            "Web",
            stage=stage,
            api_domain=self.api.api_domain,
            access_logs=self.access_logs,
            site_dir=site_dir,
        )
        self.events = Events(self, "Events", functions=functions, annotations=self.data.tables["annotations"])
        self.ml = ModelEndpoints(self, "Ml", stage=stage, artifacts=self.data.artifacts_bucket)
        for function in (self.api.api_function, self.api.jobs_function):
            self.ml.grant_invoke(function)
        # Storages that name a role to assume (their buckets' owners trust it, with an external id): by
        # convention its name starts with labelstack-storage-.
        self.storage_role_pattern = self.format_arn(
            service="iam", region="", account="*", resource="role", resource_name="labelstack-storage-*"
        )
        # The API and jobs validate and sync storages, the storage-events function syncs new objects, and the
        # stream consumer writes annotations to target storages.
        for function in (
            self.api.api_function,
            self.api.jobs_function,
            self.events.storage_events,
            self.events.consumer,
        ):
            function.add_to_role_policy(
                iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[self.storage_role_pattern])
            )
        # Task and project webhook events are queued by the requests and jobs that make the change (and a
        # storage's new objects by the storage-events function), annotation events by the stream consumer.
        for function in (self.api.api_function, self.api.jobs_function, self.events.storage_events):
            self.events.deliveries.grant_send_messages(function)
            function.add_environment("LABELSTACK_DELIVERIES_QUEUE", self.events.deliveries.queue_name)
        self.training = Training(self, "Training", stage=stage, functions=functions, data=self.data)
        # Runs start from the API (by hand) and from the stream consumer (on annotations).
        for function in (self.api.api_function, self.api.jobs_function, self.events.consumer):
            self.training.grant_start(function)
            function.add_environment(
                "LABELSTACK_TRAINING_STATE_MACHINE_ARN", self.training.state_machine.state_machine_arn
            )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            stage=stage,
            functions={
                "Api": self.api.api_function,
                "Jobs": self.api.jobs_function,
                "Events": self.events.consumer,
                "Training": self.training.steps,
                "Deliveries": self.events.deliverer,
                "StorageEvents": self.events.storage_events,
            },
            dead_letter_queues={
                "StreamDeadLetters": self.events.stream_dlq,
                "DeliveriesDeadLetters": self.events.deliveries_dlq,
            },
        )

        CfnOutput(self, "WebUrl", value=self.web.url, description="The annotators' and managers' URL")
        CfnOutput(
            self,
            "ApiUrl",
            value=f"{self.web.url}/api",
            description="The REST API (Label Studio's paths) on the web URL's domain",
        )
        CfnOutput(
            self,
            "HttpApiUrl",
            value=self.api.http_api.api_endpoint,
            description="The HTTP API's own endpoint, behind CloudFront",
        )
        CfnOutput(
            self,
            "TablePrefix",
            value=self.data.table_prefix,
            description="LABELSTACK_TABLE_PREFIX, for `labelstack create-admin`",
        )
        CfnOutput(self, "JobsFunction", value=jobs_function_name)
        CfnOutput(
            self,
            "StorageEventsFunction",
            value=self.events.storage_events.function_arn,
            description="Point a source bucket's ObjectCreated notifications here for auto-sync",
        )
        if self.ml.builtin_endpoint_name:
            CfnOutput(self, "BuiltinModelEndpoint", value=self.ml.builtin_endpoint_name)
        self._suppress_accepted_findings(stage, jwt_secret)

    def _suppress_accepted_findings(self, stage: Stage, jwt_secret: secretsmanager.ISecret) -> None:
        # cdk-nag 3 names each finding with what it is about; tokens are spelled as it spells them.
        region = "<AWS::Region>" if Token.is_unresolved(self.region) else self.region
        account = "<AWS::AccountId>" if Token.is_unresolved(self.account) else self.account
        basic_execution = (
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]"
        )
        endpoints = (
            f"arn:<AWS::Partition>:sagemaker:{region}:{account}:endpoint/"
            f"{stage.sagemaker_endpoint_prefix.lower()}*"
        )

        _acknowledge(
            jwt_secret,
            "AwsSolutions-SMG4",
            (
                "Rotating the signing key would sign every user out and invalidate every personal access "
                "token; rotate it by hand when that is intended."
            ),
        )
        for function in (
            self.api.api_function,
            self.api.jobs_function,
            self.events.consumer,
            self.training.steps,
            self.events.deliverer,
            self.events.storage_events,
        ):
            _acknowledge(function, basic_execution, "It only lets the function write its own logs.")
            _acknowledge(
                function,
                f"AwsSolutions-IAM5[Resource::<{self._logical_id(self.data.files_bucket)}.Arn>/*]",
                "The files bucket's objects: task data, uploads and exports under per-project keys.",
            )
            _acknowledge(
                function,
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray's PutTraceSegments and PutTelemetryRecords take no resource.",
            )
            _acknowledge(
                function,
                f"AwsSolutions-IAM5[Resource::{endpoints}]",
                "SageMaker endpoints named with the stage's prefix: the ones ML teams register.",
            )
            _acknowledge(
                function,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/labelstack-storage-*]",
                "Roles that source and target storages name, in their buckets' accounts; each role's "
                "trust policy (with the storage's external id) decides.",
            )
            _acknowledge(
                function,
                "AwsSolutions-L1",
                ("The runtime is the Python that compiled the bundle's bytecode (infra/aws/bundling.py)."),
            )
        _acknowledge(
            self.api.http_api,
            "AwsSolutions-APIG4",
            (
                "The app authenticates every route itself (Label Studio's token and JWT schemes); "
                "/health and /api/version are public in Label Studio too."
            ),
        )
        _acknowledge(
            self.web.distribution,
            "AwsSolutions-CFR1",
            "Annotators may work from anywhere; restrict with a WAF where needed.",
        )
        _acknowledge(
            self.web.distribution,
            "AwsSolutions-CFR2",
            "A WAF web ACL is an account-level choice (cost, rules); attach one where required.",
        )
        if not stage.domain_name:
            _acknowledge(
                self.web.distribution,
                "AwsSolutions-CFR4",
                (
                    "The default *.cloudfront.net certificate allows TLS 1.0; set domainName and "
                    "certificateArn to enforce TLS 1.2."
                ),
            )
        _acknowledge(
            self.events.stream_dlq,
            "AwsSolutions-SQS3",
            "This queue is itself a dead-letter queue: the stream consumer's on-failure destination.",
        )
        if self.ml.execution_role is not None:
            artifacts = f"<{self._logical_id(self.data.artifacts_bucket)}.Arn>"
            _acknowledge(
                self.ml.execution_role,
                "AwsSolutions-IAM5[Resource::*]",
                "ecr:GetAuthorizationToken takes no resource.",
            )
            _acknowledge(
                self.ml.execution_role,
                f"AwsSolutions-IAM5[Resource::{artifacts}/{MODEL_PREFIX}*]",
                "The model artifacts the built-in endpoint loads.",
            )
        self._acknowledge_training(region, account, stage)
        # CDK's own custom resource that copies web/ into the site bucket, one per stack: CDK writes its
        # policy.
        for child in self.node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                for finding in (
                    "Action::s3:Abort*",
                    "Action::s3:DeleteObject*",
                    "Action::s3:GetBucket*",
                    "Action::s3:GetObject*",
                    "Action::s3:List*",
                    "Resource::*",
                    f"Resource::<{self._logical_id(self.web.bucket)}.Arn>/*",
                    f"Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-{account}-{region}/*",
                ):
                    _acknowledge(
                        child,
                        f"AwsSolutions-IAM5[{finding}]",
                        "CDK's BucketDeployment handler copies the web/ asset into the site bucket.",
                    )
                _acknowledge(child, basic_execution, "CDK's BucketDeployment handler writes its own logs.")
                _acknowledge(child, "AwsSolutions-L1", "CDK chooses the BucketDeployment handler's runtime.")

    def _acknowledge_training(self, region: str, account: str, stage: Stage) -> None:
        sagemaker = f"arn:<AWS::Partition>:sagemaker:{region}:{account}"
        prefix = stage.sagemaker_endpoint_prefix.lower()
        steps = f"<{self._logical_id(self.training.steps)}.Arn>"
        role = self.training.execution_role
        for resource, reason in (
            (
                f"<{self._logical_id(self.data.files_bucket)}.Arn>/training/*",
                "The training datasets the API exports, one folder per run.",
            ),
            (
                f"<{self._logical_id(self.data.artifacts_bucket)}.Arn>/{MODEL_PREFIX}*",
                "The models training jobs write and endpoints load.",
            ),
            (
                f"arn:<AWS::Partition>:logs:{region}:{account}:log-group:/aws/sagemaker/*",
                "SageMaker's own log groups for training jobs and endpoints.",
            ),
            (
                "*",
                "ecr:GetAuthorizationToken takes no resource; image layers are limited to the model image.",
            ),
        ):
            _acknowledge(role, f"AwsSolutions-IAM5[Resource::{resource}]", reason)
        machine = self.training.state_machine
        for resource, reason in (
            (f"{steps}:*", "Any version of the training steps function, which the state machine invokes."),
            (
                f"{sagemaker}:training-job/*",
                (
                    "Step Functions' run-a-job SageMaker integration names the job "
                    "at run time and needs Describe/Stop on it."
                ),
            ),
            (f"{sagemaker}:model/{prefix}*", "Models the runs create, named with the stage's prefix."),
            (
                f"{sagemaker}:endpoint-config/{prefix}*",
                "Endpoint configs the runs create, named with the prefix.",
            ),
            (f"{sagemaker}:endpoint/{prefix}*", "The registered endpoints the runs update."),
            (
                "*",
                (
                    "sagemaker:ListTags (the run-a-job integration), CloudWatch Logs delivery and X-Ray take "
                    "no resource."
                ),
            ),
        ):
            _acknowledge(machine, f"AwsSolutions-IAM5[Resource::{resource}]", reason)
        _acknowledge(
            self.training.steps,
            f"AwsSolutions-IAM5[Resource::{sagemaker}:endpoint-config/{prefix}*]",
            "The current config of a registered endpoint, copied into the new one.",
        )

    def _logical_id(self, construct: Construct) -> str:
        """A construct's CloudFormation logical id, as cdk-nag names it in a finding."""
        return self.resolve(self.get_logical_id(construct.node.default_child))


def _acknowledge(construct: Construct, finding: str, reason: str) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=finding, reason=reason))
