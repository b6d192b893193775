"""Background jobs: work too long for one HTTP request (large imports, deleting a project's contents).

In AWS a job is an asynchronous invocation of the jobs Lambda (`functions/handlers/jobs.py`); the local
stack, which has no Lambda, runs it on a worker thread of this process. Either way the job itself is a
plain function named in `_JOBS`, and it records its own progress where clients can poll it.
"""

from __future__ import annotations

import importlib
import logging
import threading

from functions.settings import get_settings
from functions.store import async_invocations

logger = logging.getLogger(__name__)

_JOBS = {
    "import_tasks": "functions.services.importing:run_import_job",
    "delete_project_contents": "functions.services.cleanup:delete_project_contents",
    "build_export_snapshot": "functions.services.export_snapshots:build_snapshot",
    "convert_export_snapshot": "functions.services.export_snapshots:convert_snapshot",
    "refresh_label_queue": "functions.services.label_stream:refresh_label_queue",
    "retrieve_predictions": "functions.services.ml_predictions:run_job",
    "sync_storage": "functions.services.storages:run_sync",
    "count_model_versions": "functions.services.model_versions:count_job",
}


def run(kind: str, payload: dict):
    """Run a job here and now (the jobs Lambda and the local worker both end up here)."""
    module_name, _, function_name = _JOBS[kind].partition(":")
    return getattr(importlib.import_module(module_name), function_name)(**payload)


def _run_logged(kind: str, payload: dict):
    try:
        return run(kind, payload)
    except Exception:  # a background job has nobody else to tell
        logger.exception("job %s failed", kind)
        raise


def run_here() -> bool:
    """Whether submitted jobs run in this process (the local stack) rather than in the jobs Lambda."""
    return not get_settings().jobs_function_name


def submit(kind: str, payload: dict) -> threading.Thread | None:
    if kind not in _JOBS:
        raise ValueError(f"unknown job {kind!r}")
    function_name = get_settings().jobs_function_name
    if function_name:
        async_invocations.invoke(function_name, {"job": kind, "payload": payload})
        return None
    # A daemon thread: Ctrl-C on the local stack must not wait for a job (its data is in memory anyway).
    worker = threading.Thread(
        target=_run_logged, args=(kind, payload), name=f"labelstack-job-{kind}", daemon=True
    )
    worker.start()
    return worker
