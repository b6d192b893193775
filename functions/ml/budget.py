"""How long calls to an ML backend may take.

Each `/predict` may take the backend's `timeout`. Calls an API request waits on share one budget on top:
`ml_api_timeout` for all of them together (API Gateway ends the API Lambda's request at 29 s, and a
caller waiting longer is gone anyway). Background jobs have no shared budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from functions.domain.ml_backend import MLBackend
from functions.settings import get_settings

# Below this, a call is not worth starting: it would time out before a model could answer.
_MIN_CALL = 0.2


@dataclass(frozen=True)
class Budget:
    per_call: float
    ends_at: float | None = None  # time.monotonic(); None: no shared budget
    total: float | None = None

    def call_timeout(self) -> float:
        """The timeout of the next call."""
        if self.ends_at is None:
            return self.per_call
        return max(_MIN_CALL, min(self.per_call, self.ends_at - time.monotonic()))

    def spent(self) -> bool:
        """No time is left for another call."""
        return self.ends_at is not None and self.ends_at - time.monotonic() < _MIN_CALL


def per_call(backend: MLBackend) -> float:
    return backend.timeout or get_settings().ml_predict_timeout


def for_request(backend: MLBackend) -> Budget:
    """The budget of backend calls made while an API request waits (starting now)."""
    total = get_settings().ml_api_timeout
    return Budget(per_call=min(per_call(backend), total), ends_at=time.monotonic() + total, total=total)


def for_job(backend: MLBackend) -> Budget:
    """A background job's: each call its backend's timeout."""
    return Budget(per_call=per_call(backend))
