"""Requests that run once per key: Powertools' idempotency utility over the idempotency table.

The first request with a key runs and its answer is kept (for `expires_after_seconds`); a retry with the same
key and body gets that answer back without running again. Powertools is imported when a key is used, not
when this module is: most requests carry none, and the Lambda's cold start pays for what it imports.
"""

from __future__ import annotations

from collections.abc import Callable

from functions.store.aws_clients import client
from functions.store.models import IdempotencyModel


class KeyReused(Exception):
    """The key was first used for a request with another body."""


class StillRunning(Exception):
    """The first request with this key has not finished yet."""


def run_once(
    operation: str,
    key: str,
    body_digest: str,
    run: Callable[[], dict],
    *,
    lambda_context=None,
    expires_after_seconds: int = 24 * 3600,
) -> dict:
    """`run()`'s answer, computed once per (`operation`, `key`). Raises KeyReused when `body_digest` differs
    from the first request's, StillRunning while that request is running."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    persistence = DynamoDBPersistenceLayer(
        table_name=IdempotencyModel.Meta.table_name, boto3_client=client("dynamodb")
    )
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="body",
        expires_after_seconds=expires_after_seconds,
    )
    if lambda_context is not None:
        # In Lambda, a request cut off by the timeout must not block its retries until the record expires.
        config.register_lambda_context(lambda_context)

    def answer(request: dict) -> dict:
        return run()

    guarded = idempotent_function(
        answer,
        data_keyword_argument="request",
        persistence_store=persistence,
        config=config,
        key_prefix=operation,
    )
    try:
        return guarded(request={"key": key, "body": body_digest})
    except IdempotencyValidationError:
        raise KeyReused(key) from None
    except IdempotencyAlreadyInProgressError:
        raise StillRunning(key) from None
