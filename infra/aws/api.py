"""API: the FastAPI app on Lambda (through Mangum) behind an HTTP API, and the background-jobs Lambda."""

from __future__ import annotations

import jsii
from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct

from infra.aws.app_functions import AppFunctions
from infra.aws.stage import Stage


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLog:
    """One JSON line per request (an interface, not a struct, in the CDK: Python implements it)."""

    def __init__(self, group: logs.ILogGroup):
        self._destination = apigw.LogGroupLogDestination(group)

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw_v1.AccessLogFormat:
        return apigw_v1.AccessLogFormat.json_with_standard_fields(
            caller=False,
            http_method=True,
            ip=True,
            protocol=True,
            request_time=True,
            resource_path=True,
            response_length=True,
            status=True,
            user=False,
        )


class Api(Construct):
    """Two functions over one code asset: `api` answers HTTP; `jobs` runs what is too long for a request
    (large imports, snapshots, project clean-up), invoked asynchronously by `api` through
    `LABELSTACK_JOBS_FUNCTION`. `jobs_function_name` is fixed so both can name it without a cyclic reference.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        functions: AppFunctions,
        jobs_function_name: str,
    ):
        super().__init__(scope, construct_id)
        self.api_function = functions.new(
            self,
            "Api",
            handler="functions.handlers.api.handler",
            service="api",
            timeout=Duration.seconds(29),
            memory_size=1024,
        )
        self.jobs_function = functions.new(
            self,
            "Jobs",
            handler="functions.handlers.jobs.handler",
            service="jobs",
            timeout=Duration.minutes(15),
            memory_size=1769,
            function_name=jobs_function_name,
            # A job records its own failure where its client polls; a blind
            # retry could run an import twice.
            retry_attempts=0,
        )
        jobs_arn = Stack.of(self).format_arn(
            service="lambda",
            resource="function",
            resource_name=jobs_function_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        for function in (self.api_function, self.jobs_function):
            # Jobs queue follow-up jobs too (an import's label-queue refresh), so both may invoke it.
            function.add_to_role_policy(
                iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[jobs_arn])
            )

        access_log = logs.LogGroup(
            self, "AccessLog", retention=stage.log_retention, removal_policy=stage.removal_policy
        )
        self.http_api = apigw.HttpApi(
            self,
            "HttpApi",
            api_name=f"{stage.resource_prefix}api",
            default_integration=HttpLambdaIntegration("App", self.api_function),
            create_default_stage=False,
        )
        self.http_api.add_stage(
            "Stage",
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(
                rate_limit=stage.api_rate_limit, burst_limit=stage.api_burst_limit
            ),
            access_log_settings=_AccessLog(access_log),
        )

    @property
    def api_domain(self) -> str:
        """The HTTP API's execute-api host name, CloudFront's origin for `/api/*`."""
        stack = Stack.of(self)
        return f"{self.http_api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"
