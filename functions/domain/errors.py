"""Domain errors. The API maps each to one Label Studio-shaped HTTP error (see functions/api/errors.py)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the services raise on purpose."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class ValidationFailed(DomainError):
    """Bad input. `errors` maps a field name to its messages, as Label Studio's `validation_errors`."""

    def __init__(self, errors: dict[str, list[str]], detail: str = "Validation error"):
        super().__init__(detail)
        self.errors = errors

    @classmethod
    def field(cls, name: str, message: str) -> ValidationFailed:
        return cls({name: [message]})


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it does."""


class PermissionDenied(DomainError):
    """The caller is known but lacks the role for this action."""


class NotAuthenticated(DomainError):
    """No credentials, or credentials that do not check out."""


class Conflict(DomainError):
    """A concurrent change won (optimistic concurrency), or the request repeats one still running."""


class PayloadTooLarge(DomainError):
    """The request body or one of its parts is over a configured bound."""


class TooManyRequests(DomainError):
    """Too many attempts (failed sign-ins of one account): try again after `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"Request was throttled. Expected available in {retry_after} seconds.")
        self.retry_after = retry_after
