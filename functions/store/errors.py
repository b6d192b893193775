"""Map PynamoDB/botocore failures to domain errors at the store's edge."""

from __future__ import annotations

from contextlib import contextmanager

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError

from functions.domain.errors import Conflict


def is_condition_failure(exc: Exception) -> bool:
    code = getattr(exc, "cause_response_code", None)
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


@contextmanager
def conflict_on_condition(message: str):
    """A failed condition (a version check, an existence check) means a concurrent change won."""
    try:
        yield
    except (UpdateError, PutError, DeleteError, TransactWriteError) as exc:
        if is_condition_failure(exc):
            raise Conflict(message) from exc
        raise
