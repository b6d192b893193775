"""Routes that call ML backends run that work on threads of its own.

Sync routes and `run_in_threadpool` share anyio's default thread limiter, which the local server keeps
small (infra/cli.py `_limit_worker_threads`: 8). A request waiting on a backend waits up to its timeout
on a socket; a few dozen such requests on the shared threads would leave none for `/health`, the label
stream or anything else. So these requests wait on a limiter of their own (`ml_call_threads`): when a
backend hangs, only requests that call backends queue behind it.

The limiter belongs to the running event loop (one per process under uvicorn; Mangum may run a new one
per Lambda invocation, and one request at a time).
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

from functions.settings import get_settings

P = ParamSpec("P")
T = TypeVar("T")

_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = weakref.WeakKeyDictionary()


def _limiter() -> CapacityLimiter:
    loop = asyncio.get_running_loop()
    found = _limiters.get(loop)
    if found is None:
        found = _limiters[loop] = CapacityLimiter(get_settings().ml_call_threads)
    return found


async def call_backends(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`func(*args, **kwargs)` (which calls an ML backend) on the backend-call threads."""
    return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs), limiter=_limiter())
