"""Ownership of SageMaker endpoints: one item per endpoint and region, naming the project that owns it.

Claiming is one conditional put (the endpoint is unclaimed, or already this project's), so when two
projects register the same endpoint at once exactly one of them owns it. Releasing is a delete
conditional on the owner, so a project can never free an endpoint another project holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DeleteError, PutError

from functions.domain.records import utcnow
from functions.store.models import MLEndpointModel


@dataclass(frozen=True)
class EndpointOwner:
    project_id: int
    backend_id: int
    claimed_at: datetime


def _key(region: str, endpoint_name: str) -> str:
    return f"{region}/{endpoint_name}"


def _condition_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def claim(region: str, endpoint_name: str, project_id: int, backend_id: int) -> bool:
    """Make `project_id` the endpoint's owner unless another project is; True if the project owns it."""
    item = MLEndpointModel(
        _key(region, endpoint_name),
        owner_project_id=project_id,
        owner_backend_id=backend_id,
        claimed_at=utcnow(),
    )
    try:
        item.save(
            condition=MLEndpointModel.endpoint.does_not_exist()
            | (MLEndpointModel.owner_project_id == project_id)
        )
    except PutError as exc:
        if _condition_failed(exc):
            return False
        raise
    return True


def owner(region: str, endpoint_name: str) -> EndpointOwner | None:
    try:
        item = MLEndpointModel.get(_key(region, endpoint_name), consistent_read=True)
    except MLEndpointModel.DoesNotExist:
        return None
    return EndpointOwner(int(item.owner_project_id), int(item.owner_backend_id), item.claimed_at)


def release(region: str, endpoint_name: str, project_id: int) -> None:
    """Free the endpoint if `project_id` owns it (otherwise nothing happens)."""
    try:
        MLEndpointModel(_key(region, endpoint_name)).delete(
            condition=MLEndpointModel.owner_project_id == project_id
        )
    except DeleteError as exc:
        if not _condition_failed(exc):
            raise
