"""Map PynamoDB/botocore failures to domain errors at the store's edge, and tell which failures are
the store being busy or unreachable (worth a retry) rather than a bug."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import HTTPClientError
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


# What AWS answers when it is throttling or briefly down: worth the same request again shortly.
_UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottlingError",  # a TransactWriteItems cancellation reason
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalServerError",
        "InternalError",  # S3's 500
        "SlowDown",  # S3's 503
        "RequestThrottled",
    }
)


def _codes(exc: BaseException) -> set[str]:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return set()
    codes = {response.get("Error", {}).get("Code")}
    codes.update(r.get("Code") for r in response.get("CancellationReasons") or () if isinstance(r, dict))
    return {c for c in codes if isinstance(c, str)}


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps: PynamoDB's `cause`, `__cause__`, `__context__`) says a store is
    throttling or unreachable for now, rather than that the request or the code is wrong."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if _codes(current) & _UNAVAILABLE_CODES:
            return True
        if isinstance(current, sqlite3.OperationalError) and (
            "database is locked" in str(current) or "database is busy" in str(current)
        ):
            return True
        if isinstance(current, BotoConnectionError | HTTPClientError):  # unreachable, timed out
            return True
        pending += [getattr(current, "cause", None), current.__cause__, current.__context__]
    return False
