"""The labelstack Lambdas: one code asset, one environment, each function its own handler and log group."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.aws.data import Data
from infra.aws.stage import Stage

ARCHITECTURE = lambda_.Architecture.ARM_64


class AppFunctions:
    """Makes the functions that run `functions/`, each granted the tables, the files bucket and the signing
    key, and configured through the same `LABELSTACK_*` variables as the local stack (functions/settings.py).
    """

    def __init__(
        self,
        *,
        stage: Stage,
        data: Data,
        code: lambda_.Code,
        runtime: lambda_.Runtime,
        jwt_secret: secretsmanager.ISecret,
        jobs_function_name: str,
    ):
        self._stage, self._data, self._code, self._runtime = stage, data, code, runtime
        self._jwt_secret = jwt_secret
        self.environment = {
            "LABELSTACK_TABLE_PREFIX": data.table_prefix,
            "LABELSTACK_FILES_BUCKET": data.files_bucket.bucket_name,
            "LABELSTACK_JWT_SECRET_ARN": jwt_secret.secret_arn,
            "LABELSTACK_JOBS_FUNCTION": jobs_function_name,
            # The IAM policy allows only these endpoints (infra/aws/ml.py); the API refuses others by name.
            "LABELSTACK_SAGEMAKER_ENDPOINT_PREFIX": stage.sagemaker_endpoint_prefix,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }

    def new(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        service: str,
        timeout: Duration,
        memory_size: int,
        function_name: str | None = None,
        retry_attempts: int | None = None,
    ) -> lambda_.Function:
        log_group = logs.LogGroup(
            scope,
            f"{construct_id}Logs",
            retention=self._stage.log_retention,
            removal_policy=self._stage.removal_policy,
        )
        function = lambda_.Function(
            scope,
            construct_id,
            function_name=function_name,
            code=self._code,
            handler=handler,
            runtime=self._runtime,
            architecture=ARCHITECTURE,
            timeout=timeout,
            memory_size=memory_size,
            environment={**self.environment, "POWERTOOLS_SERVICE_NAME": f"labelstack-{service}"},
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            retry_attempts=retry_attempts,
        )
        self._data.grant_read_write(function)
        self._jwt_secret.grant_read(function)
        return function
