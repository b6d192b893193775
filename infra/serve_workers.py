"""The local server's app, in one process or in each of `--workers` processes.

`labelstack dev`/`serve` start the stack (the store, the pumps, the model server) in their own process.
With one worker that process serves the app too. With more, uvicorn starts that many processes on the
same socket, and each builds its app here from what the parent put in the environment: the store's
settings (`infra.local_stack.apply_settings`), the model server's directory and the thread count. The
sqlite engine is safe across processes: every write takes SQLite's write lock (`BEGIN IMMEDIATE`), so a
lease or a counter is as atomic between workers as between threads; a request's work is CPU in one
interpreter, so a second process is what lets a second core answer.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from fastapi import FastAPI

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
MODEL_DIR = "LABELSTACK_LOCAL_MODEL_DIR"
THREADS = "LABELSTACK_SERVER_THREADS"


def build_app(threads: int) -> FastAPI:
    """The API and the web UI, serving sync routes on `threads` threads."""
    from functions.api.app import create_app

    app = create_app()
    # The event loop answers the label stream's calls itself (functions/api/auth.py) and lets go of the
    # GIL at every SQLite call; a CPU-bound thread beside it (an import, an export) then keeps the GIL for
    # the whole switch interval before the loop gets it back. At Python's 5 ms, /next took a p50 of 107 ms
    # during a 100,000-task import; at 0.5 ms, 38 ms, and the import 5% longer.
    sys.setswitchinterval(0.0005)
    if (WEB_ROOT / "index.html").exists():
        from infra.web_files import WebFiles

        app.mount("/", WebFiles(WEB_ROOT, app.state.content_security_policy), name="web")
    _limit_worker_threads(app, threads)
    return app


def worker_app() -> FastAPI:
    """One worker process's app (uvicorn's factory). It dies with the process that started the stack,
    as the model server does, so a `kill -9` of `labelstack serve` leaves no worker on the port."""
    if sys.platform == "linux":
        from infra.local_stack import die_with_parent

        die_with_parent()
    from functions.services import training
    from infra.local_training import LocalTrainingRunner

    # `POST /api/ml/{id}/train` may land here: the same local steps as in the parent.
    training.use_local_runner(LocalTrainingRunner(Path(os.environ[MODEL_DIR])))
    return build_app(int(os.environ.get(THREADS, "8")))


def _limit_worker_threads(app: FastAPI, threads: int) -> None:
    """Run sync routes on `threads` threads instead of anyio's 40. The work is CPU in one interpreter
    (Python's GIL, one SQLite writer), and more threads only hand the GIL to each other more often
    (bench/annotators.py); the label stream's calls do not use them (`functions.api.auth.current_user`)."""
    import anyio.to_thread

    original = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application):
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        async with original(application) as state:
            yield state

    app.router.lifespan_context = lifespan
