"""Stage settings, read from CDK context (`cdk deploy -c stage=prod -c domainName=...`).

Everything a platform team may want to vary between installations is here, with the default a first
`cdk deploy` into a sandbox account should get. Names of deployed things derive from `stage`, so two
stages can live in one account.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk.aws_logs import RetentionDays
from constructs import Node


def _retention(name: str) -> RetentionDays:
    try:
        return RetentionDays[name.upper()]
    except KeyError:
        raise ValueError(
            f"context logRetention must name a CloudWatch Logs retention such as THREE_MONTHS "
            f"or ONE_YEAR, got {name!r}"
        ) from None


@dataclass(frozen=True)
class Stage:
    name: str
    # "retain" keeps tables and buckets when the stack is deleted; "destroy" is for throw-away stages.
    removal_policy: RemovalPolicy
    log_retention: RetentionDays
    # A custom domain for the web UI and API (CloudFront); both must be set to use one.
    domain_name: str | None
    certificate_arn: str | None
    # The API may invoke only SageMaker endpoints whose names start with this.
    sagemaker_endpoint_prefix: str
    # An image built from ml_endpoints/Dockerfile and pushed to ECR; when set, the built-in model runs
    # as a serverless SageMaker endpoint.
    model_image_uri: str | None
    alarm_email: str | None
    # HTTP API stage throttling (requests per second, and the burst above it).
    api_rate_limit: int
    api_burst_limit: int

    @property
    def resource_prefix(self) -> str:
        return f"labelstack-{self.name}-"

    @classmethod
    def from_context(cls, node: Node) -> Stage:
        def get(key: str, default=None):
            value = node.try_get_context(key)
            return default if value in (None, "") else value

        name = str(get("stage", "dev"))
        if not name.replace("-", "").isalnum() or len(name) > 20:
            raise ValueError(
                f"context stage must be letters, digits and '-', at most 20 characters: {name!r}"
            )
        policy = str(get("removalPolicy", "retain")).lower()
        if policy not in ("retain", "destroy"):
            raise ValueError(f"context removalPolicy must be 'retain' or 'destroy', got {policy!r}")
        domain, certificate = get("domainName"), get("certificateArn")
        if bool(domain) != bool(certificate):
            raise ValueError("context domainName and certificateArn go together: set both or neither")
        return cls(
            name=name,
            removal_policy=RemovalPolicy.RETAIN if policy == "retain" else RemovalPolicy.DESTROY,
            log_retention=_retention(str(get("logRetention", "THREE_MONTHS"))),
            domain_name=domain,
            certificate_arn=certificate,
            sagemaker_endpoint_prefix=str(get("sagemakerEndpointPrefix", f"labelstack-{name}-")),
            model_image_uri=get("modelImageUri"),
            alarm_email=get("alarmEmail"),
            api_rate_limit=int(get("apiRateLimit", 200)),
            api_burst_limit=int(get("apiBurstLimit", 400)),
        )
