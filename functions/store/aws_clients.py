"""boto3 clients for the configured endpoint: the embedded emulator locally, AWS itself when unset."""

from __future__ import annotations

from functools import cache

import boto3
from botocore.config import Config

from functions.settings import get_settings


@cache
def client(service: str):
    settings = get_settings()
    if service in ("dynamodb", "sqs") and settings.store_engine == "sqlite":
        # One machine has neither: the tables and the deliveries queue live in the sqlite engine's database.
        from functions.store.sqlite.database import open_database
        from functions.store.sqlite.dynamodb import SqliteDynamoDB
        from functions.store.sqlite.sqs import SqliteSQS

        if not settings.data_dir:
            raise ValueError("the sqlite store engine needs a data directory (LABELSTACK_DATA_DIR)")
        engine = SqliteDynamoDB if service == "dynamodb" else SqliteSQS
        return engine(open_database(settings.data_dir), settings.region)
    return boto3.client(
        service,
        region_name=settings.region,
        endpoint_url=settings.aws_endpoint_url,
        # Account-based DynamoDB endpoints (<account>.streams-ddb...) are an optimisation the emulator
        # does not route; the regional endpoint serves the same API.
        config=Config(
            retries={"mode": "standard", "max_attempts": 5},
            s3={"addressing_style": "path"},
            account_id_endpoint_mode="disabled",
        ),
    )
