"""The one interface every ML backend kind answers, and the JSON Label Studio sends with it.

Kinds differ in transport only: an `http` backend gets `/setup` and `/predict` over HTTP; a `sagemaker`
endpoint gets the very same `/predict` body through InvokeEndpoint. So a model answers the same
whichever way it is registered. The kinds implement this module; client.py picks one for a backend.
"""

from __future__ import annotations

import json
from typing import Protocol

from functions.domain.records import Project
from functions.ml.responses import BackendError


class BackendDown(BackendError):
    """The backend did not answer its health check (Label Studio's state DI)."""


class MLClient(Protocol):
    def setup(self, project: Project) -> str:
        """Check the backend is up and ready for the project; return its current model version ("" if
        it does not say). Raises BackendDown or BackendError."""

    def predict(
        self,
        project: Project,
        tasks: list[dict],
        *,
        context: dict | None = None,
        timeout: float | None = None,
    ) -> tuple[list, str | None]:
        """The raw `results` for `tasks` (Label Studio task JSON) and the answer's own model_version."""

    def versions(self) -> list[str] | None:
        """The versions the backend lists, or None if it cannot list them."""


def project_uid(project: Project) -> str:
    """Label Studio's project id in the protocol: "<id>.<created_at as epoch seconds>"."""
    return f"{project.id}.{int(project.created_at.timestamp())}"


def extra_params_text(value) -> str | None:
    """`extra_params` as the SDK wants it: a JSON string, or null (an object makes its /setup fail)."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value)


def predict_request(project: Project, tasks: list[dict], context: dict | None) -> dict:
    # `params` is always an object: the SDK pops from it and fails on null.
    return {
        "tasks": tasks,
        "project": project_uid(project),
        "label_config": project.label_config,
        "params": {"login": None, "password": None, "context": context},
    }
