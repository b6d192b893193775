"""SageMaker's control plane, as far as the platform reads it: what an endpoint serves now."""

from __future__ import annotations

from functions.store.aws_clients import client

# What an endpoint config's production variant keeps when it serves a new model.
_VARIANT_FIELDS = (
    "VariantName",
    "InitialInstanceCount",
    "InstanceType",
    "InitialVariantWeight",
    "ServerlessConfig",
)


def production_variants(endpoint_name: str) -> list[dict]:
    """The production variants of the endpoint's current config (without each variant's model)."""
    sagemaker = client("sagemaker")
    current = sagemaker.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
    variants = sagemaker.describe_endpoint_config(EndpointConfigName=current)["ProductionVariants"]
    return [{k: v[k] for k in _VARIANT_FIELDS if k in v} for v in variants]
