"""Peak memory and time of exporting every task of a 1k and a 100k project, per format.

The emulator runs in a child process, so `tracemalloc` in this process sees only labelstack's side of the
export (boto3 responses, conversion, the spooled file) — what a Lambda running the export would hold.
Flat numbers across project sizes mean the export streams.

    .venv/bin/python -m bench.export_memory [--sizes 1000 100000] [--formats JSON CSV]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
import tracemalloc

from bench.api_calls import _project_of
from infra.local_stack import free_port


def _emulator(port: int, ready) -> None:
    from infra.local_stack import LocalStack

    LocalStack(moto_port=port).start()
    ready.set()
    while True:
        time.sleep(3600)


def _measure(user, project_id: int, export_type: str) -> tuple[float, float, float]:
    from functions.services import exporting

    tracemalloc.start()
    started = time.perf_counter()
    _, body = exporting.export(user, project_id, export_type, download_all_tasks=True, ids=None)
    size = 0
    with body:
        while chunk := body.read(1024 * 1024):
            size += len(chunk)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, size / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--formats", nargs="+", default=["JSON", "CSV"])
    args = parser.parse_args()

    port = free_port()
    ready = multiprocessing.Event()
    emulator = multiprocessing.Process(target=_emulator, args=(port, ready), daemon=True)
    emulator.start()
    try:
        if not ready.wait(120):
            raise RuntimeError("the emulator did not start")
        from fastapi.testclient import TestClient

        from infra.local_stack import _FAKE_AWS_ENV, apply_settings

        os.environ.setdefault("LABELSTACK_JWT_SECRET", "bench")
        apply_settings(dict(_FAKE_AWS_ENV, LABELSTACK_AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}"))
        from functions.api.app import create_app
        from functions.services import identity

        admin, token = identity.ensure_admin("bench@localhost")
        client = TestClient(create_app(), headers={"Authorization": f"Token {token}"})
        projects = {size: _project_of(client, size)[0] for size in args.sizes}

        print("\n## Exporting every task: seconds, peak traced memory (MB), file size (MB)\n")
        print("| format | " + " | ".join(f"{s} tasks: s | peak MB | file MB" for s in args.sizes) + " |")
        print("|---|" + "---:|---:|---:|" * len(args.sizes))
        for export_type in args.formats:
            cells = [_measure(admin, projects[s], export_type) for s in args.sizes]
            print(
                f"| {export_type} | "
                + " | ".join(f"{t:.1f} | {peak:.1f} | {mb:.1f}" for t, peak, mb in cells)
                + " |",
                flush=True,
            )
    finally:
        emulator.terminate()


if __name__ == "__main__":
    main()
