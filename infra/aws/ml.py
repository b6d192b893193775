"""ML: which SageMaker endpoints labelstack may call, and the optional built-in model endpoint.

ML teams register endpoints by name (`/api/ml`, kind `sagemaker`). The API may invoke only endpoints
whose names start with the stage's `sagemakerEndpointPrefix`, never every endpoint in the account.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from infra.aws.stage import Stage

# Where trained model artifacts live in the artifacts bucket.
MODEL_PREFIX = "models/"


class ModelEndpoints(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage, artifacts: s3.IBucket):
        super().__init__(scope, construct_id)
        # SageMaker keeps endpoint names in ARNs in lower case.
        self.endpoint_arn_pattern = Stack.of(self).format_arn(
            service="sagemaker",
            resource="endpoint",
            resource_name=f"{stage.sagemaker_endpoint_prefix.lower()}*",
        )
        self.builtin_endpoint_name: str | None = None
        self.execution_role: iam.Role | None = None
        if stage.model_image_uri:
            self.builtin_endpoint_name = f"{stage.sagemaker_endpoint_prefix}builtin"
            self._builtin_endpoint(stage, artifacts)

    def grant_invoke(self, grantee: iam.IGrantable) -> None:
        """Invoke and describe (connecting a backend checks it exists) the allowed endpoints, nothing else."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint", "sagemaker:DescribeEndpoint"],
            resource_arns=[self.endpoint_arn_pattern],
        )

    def _builtin_endpoint(self, stage: Stage, artifacts: s3.IBucket) -> None:
        """The `ml_endpoints` image (built from ml_endpoints/Dockerfile, pushed to ECR by the team) as a
        serverless endpoint serving the built-in text classifier."""
        role = self.execution_role = iam.Role(
            self, "ExecutionRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")
        )
        repository_name = stage.model_image_uri.split("/", 1)[1].split(":")[0].split("@")[0]
        ecr.Repository.from_repository_name(self, "Repository", repository_name).grant_pull(role)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[artifacts.arn_for_objects(f"{MODEL_PREFIX}*")]
            )
        )
        model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=stage.model_image_uri,
                environment={"LABELSTACK_ML_MODEL": "text_classifier"},
            ),
        )
        model.node.add_dependency(role)
        config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name="AllTraffic",
                    model_name=model.attr_model_name,
                    serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                        memory_size_in_mb=2048, max_concurrency=5
                    ),
                )
            ],
        )
        sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.builtin_endpoint_name,
            endpoint_config_name=config.attr_endpoint_config_name,
        )
