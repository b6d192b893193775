"""Training: the state machine that retrains an ML backend when annotations arrive (or on request).

    Prepare ─┬─ http ──────► TrainHttp (START_TRAINING to the backend) ──────────────► Record
             └─ sagemaker ─► TrainingJob (run to completion) ► CreateModel ► DeployConfig
                             ► CreateEndpointConfig ► UpdateEndpoint ► (Wait ► DescribeEndpoint)* ► Record
    every state, on failure ─► RecordFailure (the reason on the backend) ─► Failed

The Lambda states are one function (`functions/handlers/training.py`) running the steps of
`functions/services/training.py`; the local stack runs the same steps in order (infra/local_training.py).
The training job runs the `ml_endpoints` image's `train` entry point; models, endpoint configs and the
endpoint are limited to the stage's SageMaker name prefix, and the state machine may pass only the
SageMaker execution role made here. Prepare checks again that the backend's project owns its endpoint (the
API checked when the run started; ownership may have changed since), so a read-only backend's run fails
there, before any training job or endpoint update.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Size, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.aws.app_functions import AppFunctions
from infra.aws.data import Data
from infra.aws.ml import MODEL_PREFIX
from infra.aws.stage import Stage

DATASET_PREFIX = "training/"  # functions/services/training.py writes the datasets there
THROTTLED = [
    "SageMaker.ThrottlingException",
    "ThrottlingException",
    "SageMaker.SageMakerException",
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.SdkClientException",
]


class Training(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: Stage, functions: AppFunctions, data: Data
    ):
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        prefix = stage.sagemaker_endpoint_prefix.lower()

        def arn(resource: str) -> str:
            return stack.format_arn(
                service="sagemaker",
                resource=resource,
                resource_name=f"{prefix}*",
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )

        self.steps = functions.new(
            self,
            "Steps",
            handler="functions.handlers.training.handler",
            service="training",
            timeout=Duration.minutes(5),
            memory_size=1024,
        )
        self.steps.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig"],
                resources=[arn("endpoint"), arn("endpoint-config")],
            )
        )

        self.execution_role = iam.Role(
            self,
            "SageMakerRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Runs labelstack training jobs and serves their models",
        )
        self.execution_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[data.files_bucket.arn_for_objects(f"{DATASET_PREFIX}*")]
            )
        )
        self.execution_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[data.files_bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{DATASET_PREFIX}*"]}},
            )
        )
        self.execution_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:GetObject"],
                resources=[data.artifacts_bucket.arn_for_objects(f"{MODEL_PREFIX}*")],
            )
        )
        self.execution_role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="/aws/sagemaker/*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        # What the tasks below get: CDK would widen a role it may change (S3 read on "*" for an input
        # named at run time), so they get it read-only, with the grants above.
        self._task_role = iam.Role.from_role_arn(
            self, "SageMakerRoleForTasks", self.execution_role.role_arn, mutable=False
        )
        self.image_uri = stage.model_image_uri
        if self.image_uri:
            repository = self.image_uri.split("/", 1)[1].split(":")[0].split("@")[0]
            ecr.Repository.from_repository_name(self, "Image", repository).grant_pull(self.execution_role)

        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=f"{stage.resource_prefix}training",
            definition_body=sfn.DefinitionBody.from_chainable(self._definition(data, arn)),
            timeout=Duration.hours(6),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=logs.LogGroup(
                    self, "Logs", retention=stage.log_retention, removal_policy=stage.removal_policy
                ),
                level=sfn.LogLevel.ALL,
            ),
        )

    def _step(self, construct_id: str, step: str, result_path: str | None, **fields) -> tasks.LambdaInvoke:
        invoke = tasks.LambdaInvoke(
            self,
            construct_id,
            lambda_function=self.steps,
            payload_response_only=True,
            payload=sfn.TaskInput.from_object({"step": step, "training_id.$": "$.training_id", **fields}),
            result_path=result_path if result_path is not None else sfn.JsonPath.DISCARD,
        )
        return invoke

    def _definition(self, data: Data, arn) -> sfn.IChainable:
        failed = sfn.Fail(
            self, "Failed", error="TrainingFailed", cause="The run's reason is on the ML backend"
        )
        record_failure = self._step(
            "RecordFailure",
            "record_failure",
            None,
            **{"error.$": "$.error", "execution.$": "$$.Execution.Id"},
        )
        record_failure.add_retry(
            errors=THROTTLED, interval=Duration.seconds(2), backoff_rate=2, max_attempts=5
        )
        on_failure = record_failure.next(failed)

        def guarded(state: sfn.TaskStateBase) -> sfn.TaskStateBase:
            state.add_retry(errors=THROTTLED, interval=Duration.seconds(5), backoff_rate=2, max_attempts=5)
            state.add_catch(on_failure, errors=["States.ALL"], result_path="$.error")
            return state

        prepare = guarded(self._step("Prepare", "prepare_dataset", "$.prepared"))
        train_http = guarded(self._step("TrainHttp", "train_http", "$.trained"))
        record_http = guarded(
            self._step(
                "RecordHttp",
                "record_success",
                None,
                **{"model_version.$": "$.trained.model_version", "metrics.$": "$.trained.metrics"},
            )
        )

        if self.image_uri:
            sagemaker_branch = self._sagemaker_branch(data, arn, guarded)
        else:
            sagemaker_branch = sfn.Pass(
                self,
                "NoTrainingImage",
                parameters={
                    "Error": "NoTrainingImage",
                    "Cause": "Deploy the stack with -c modelImageUri=<the ml_endpoints image> to train "
                    "SageMaker backends",
                },
                result_path="$.error",
            ).next(on_failure)
        return prepare.next(
            sfn.Choice(self, "Kind")
            .when(sfn.Condition.string_equals("$.prepared.kind", "http"), train_http.next(record_http))
            .otherwise(sagemaker_branch)
        )

    def _sagemaker_branch(self, data: Data, arn, guarded) -> sfn.IChainable:
        image = tasks.DockerImage.from_registry(self.image_uri)
        training_job = guarded(
            tasks.SageMakerCreateTrainingJob(
                self,
                "TrainingJob",
                training_job_name=sfn.JsonPath.string_at("$.prepared.job_name"),
                role=self._task_role,
                algorithm_specification=tasks.AlgorithmSpecification(
                    training_image=image,
                    training_input_mode=tasks.InputMode.FILE,
                    metric_definitions=[
                        tasks.MetricDefinition(
                            name="validation:accuracy", regex="validation:accuracy=([0-9.]+)"
                        )
                    ],
                ),
                input_data_config=[
                    tasks.Channel(
                        channel_name="training",
                        data_source=tasks.DataSource(
                            s3_data_source=tasks.S3DataSource(
                                s3_location=tasks.S3Location.from_json_expression("$.prepared.dataset_uri")
                            )
                        ),
                    )
                ],
                output_data_config=tasks.OutputDataConfig(
                    s3_output_location=tasks.S3Location.from_bucket(data.artifacts_bucket, MODEL_PREFIX)
                ),
                resource_config=tasks.ResourceConfig(
                    instance_count=1,
                    instance_type=ec2.InstanceType("m5.large"),
                    volume_size=Size.gibibytes(10),
                ),
                stopping_condition=tasks.StoppingCondition(max_runtime=Duration.hours(2)),
                integration_pattern=sfn.IntegrationPattern.RUN_JOB,
                result_path="$.training_job",
            )
        )
        create_model = guarded(
            tasks.CallAwsService(
                self,
                "CreateModel",
                service="sagemaker",
                action="createModel",
                parameters={
                    "ModelName.$": "$.prepared.model_name",
                    "ExecutionRoleArn": self.execution_role.role_arn,
                    "PrimaryContainer": {
                        "Image": self.image_uri,
                        "ModelDataUrl.$": "$.training_job.ModelArtifacts.S3ModelArtifacts",
                        "Environment": {"LABELSTACK_ML_MODEL": "text_classifier"},
                    },
                },
                iam_resources=[arn("model")],
                additional_iam_statements=[
                    iam.PolicyStatement(actions=["iam:PassRole"], resources=[self.execution_role.role_arn])
                ],
                result_path=sfn.JsonPath.DISCARD,
            )
        )
        deploy_config = guarded(
            self._step(
                "DeployConfig", "deploy_config", "$.deploy", **{"model_name.$": "$.prepared.model_name"}
            )
        )
        create_config = guarded(
            tasks.CallAwsService(
                self,
                "CreateEndpointConfig",
                service="sagemaker",
                action="createEndpointConfig",
                parameters={
                    "EndpointConfigName.$": "$.prepared.endpoint_config_name",
                    "ProductionVariants.$": "$.deploy.variants",
                },
                iam_resources=[arn("endpoint-config")],
                result_path=sfn.JsonPath.DISCARD,
            )
        )
        update_endpoint = guarded(
            tasks.CallAwsService(
                self,
                "UpdateEndpoint",
                service="sagemaker",
                action="updateEndpoint",
                parameters={
                    "EndpointName.$": "$.prepared.endpoint_name",
                    "EndpointConfigName.$": "$.prepared.endpoint_config_name",
                },
                iam_resources=[arn("endpoint"), arn("endpoint-config")],
                result_path=sfn.JsonPath.DISCARD,
            )
        )
        describe = guarded(
            tasks.CallAwsService(
                self,
                "DescribeEndpoint",
                service="sagemaker",
                action="describeEndpoint",
                parameters={"EndpointName.$": "$.prepared.endpoint_name"},
                iam_resources=[arn("endpoint")],
                result_selector={"status.$": "$.EndpointStatus", "reason.$": "States.JsonToString($)"},
                result_path="$.endpoint",
            )
        )
        record = guarded(
            self._step(
                "RecordSageMaker",
                "record_success",
                None,
                **{
                    "model_version.$": "$.prepared.endpoint_config_name",
                    "final_metrics.$": "$.training_job.FinalMetricDataList",
                },
            )
        )
        wait = sfn.Wait(self, "WaitForEndpoint", time=sfn.WaitTime.duration(Duration.seconds(30)))
        endpoint_failed = sfn.Pass(
            self,
            "EndpointFailed",
            parameters={"Error": "EndpointUpdateFailed", "Cause.$": "$.endpoint.reason"},
            result_path="$.error",
        )
        endpoint_failed.next(self.node.find_child("RecordFailure"))
        return (
            training_job.next(create_model)
            .next(deploy_config)
            .next(create_config)
            .next(update_endpoint)
            .next(wait)
            .next(describe)
            .next(
                sfn.Choice(self, "InService")
                .when(sfn.Condition.string_equals("$.endpoint.status", "InService"), record)
                .when(sfn.Condition.string_equals("$.endpoint.status", "Failed"), endpoint_failed)
                .otherwise(wait)
            )
        )

    def grant_start(self, grantee: iam.IGrantable) -> None:
        self.state_machine.grant_start_execution(grantee)
