"""Every labelstack bucket is private the same way: encrypted, versioned, public access blocked, TLS
only, deleted or kept with the stage's data."""

from __future__ import annotations

from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.aws.stage import Stage


def private_bucket(scope: Construct, construct_id: str, stage: Stage, **props) -> s3.Bucket:
    """A bucket with labelstack's baseline; `props` add to it (access logging, lifecycle, ownership)."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        removal_policy=stage.removal_policy,
        **props,
    )
