"""Deploy a trained artifact as a SageMaker endpoint with the `sagemaker` SDK v3 (`sagemaker.core` resources).

Needs the `ml-deploy` extra (about 1 GB); the SDK is imported inside the functions so that importing this
module, or anything else in ml_endpoints, works without it. Each deploy creates a new Model and
EndpointConfig named `<endpoint>-<UTC timestamp>` and then creates the endpoint, or points an existing
one at the new config (SageMaker swaps it in without downtime).
"""

from __future__ import annotations

import time


def _session(region: str | None):
    import boto3

    return boto3.Session(region_name=region) if region else boto3.Session()


def create_model(
    name: str,
    image_uri: str,
    model_data_url: str,
    role_arn: str,
    *,
    model: str = "text_classifier",
    region: str | None = None,
):
    """A SageMaker Model: our image serving `model` over the artifact tarball at `model_data_url`."""
    from sagemaker.core.resources import Model
    from sagemaker.core.shapes import ContainerDefinition

    container = ContainerDefinition(
        image=image_uri, model_data_url=model_data_url, environment={"LABELSTACK_ML_MODEL": model}
    )
    return Model.create(
        model_name=name, primary_container=container, execution_role_arn=role_arn, session=_session(region)
    )


def create_serverless_config(
    name: str, model_name: str, *, memory_mb: int = 2048, max_concurrency: int = 5, region: str | None = None
):
    from sagemaker.core.resources import EndpointConfig
    from sagemaker.core.shapes import ProductionVariant, ProductionVariantServerlessConfig

    variant = ProductionVariant(
        variant_name="AllTraffic",
        model_name=model_name,
        serverless_config=(
            ProductionVariantServerlessConfig(memory_size_in_mb=memory_mb, max_concurrency=max_concurrency)
        ),
    )
    return EndpointConfig.create(
        endpoint_config_name=name, production_variants=[variant], session=_session(region)
    )


def deploy_serverless(
    endpoint_name: str,
    image_uri: str,
    model_data_url: str,
    role_arn: str,
    *,
    model: str = "text_classifier",
    memory_mb: int = 2048,
    max_concurrency: int = 5,
    region: str | None = None,
    wait: bool = True,
) -> str:
    """Create or update the serverless endpoint `endpoint_name`; return the endpoint config it now uses."""
    from botocore.exceptions import ClientError
    from sagemaker.core.resources import Endpoint

    version = f"{endpoint_name}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}"[:63]
    create_model(version, image_uri, model_data_url, role_arn, model=model, region=region)
    create_serverless_config(
        version, version, memory_mb=memory_mb, max_concurrency=max_concurrency, region=region
    )
    session = _session(region)
    try:
        endpoint = Endpoint.get(endpoint_name=endpoint_name, session=session)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ValidationException":  # "Could not find endpoint"
            raise
        endpoint = Endpoint.create(endpoint_name=endpoint_name, endpoint_config_name=version, session=session)
    else:
        endpoint.update(endpoint_config_name=version)
    if wait:
        endpoint.wait_for_status("InService")
    return version
