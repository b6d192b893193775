"""The API Lambda's bundle: its size, zipped as CDK uploads it, and the time a fresh Python takes to
import its handler (what a cold start pays before the first request).

The size is of the arm64 bundle `cdk synth` builds. The import is timed on a build of the same bundle for
this machine's platform (the arm64 wheels' binary parts cannot load here), in a fresh interpreter that sees
only the bundle and the packages the Lambda runtime ships (boto3, botocore and what they need).

    .venv/bin/python -m bench.lambda_bundle [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from infra.aws.bundling import build_bundle, link_runtime_packages

ARM64 = "manylinux2014_aarch64"
HERE = "manylinux2014_x86_64" if os.uname().machine == "x86_64" else ARM64
IMPORT = (
    "import time; started = time.perf_counter(); import functions.handlers.api; "
    "print(time.perf_counter() - started)"
)


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def zipped_bytes(folder: Path, into: Path) -> int:
    with zipfile.ZipFile(into, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder))
    return into.stat().st_size


def import_seconds(bundle: Path, runtime: Path, runs: int, *, bytecode: bool) -> list[float]:
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": f"{bundle}{os.pathsep}{runtime}",
        "AWS_REGION": "us-east-1",
        "LABELSTACK_JWT_SECRET": "bench-signing-key-long-enough-for-hs256",
    }
    if not bytecode:
        # Lambda's code folder is read-only: without shipped bytecode every cold start compiles again.
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        for compiled in bundle.rglob("__pycache__"):
            for pyc in compiled.glob("*.pyc"):
                pyc.unlink()
    times = []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-S", "-c", IMPORT], env=env, capture_output=True, text=True, check=True
        )
        times.append(float(result.stdout.strip()))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        arm64 = work / "arm64"
        build_bundle(arm64, platform=ARM64)
        unzipped, zipped = folder_bytes(arm64), zipped_bytes(arm64, work / "arm64.zip")
        here = work / "here"
        build_bundle(here, platform=HERE)
        runtime = link_runtime_packages(work / "runtime")
        with_bytecode = import_seconds(here, runtime, args.runs, bytecode=True)
        without_bytecode = import_seconds(here, runtime, args.runs, bytecode=False)

    print("| API Lambda bundle | value |")
    print("|---|---:|")
    print(f"| arm64 bundle, unzipped | {unzipped / 1e6:.1f} MB |")
    print(f"| arm64 bundle, zipped (deflate) | {zipped / 1e6:.1f} MB |")
    print(
        f"| import functions.handlers.api, bundled bytecode: median of {args.runs} (min-max) | "
        f"{statistics.median(with_bytecode):.3f} s ({min(with_bytecode):.3f}-{max(with_bytecode):.3f}) |"
    )
    print(
        f"| same, no bytecode (what a read-only code folder costs without it) | "
        f"{statistics.median(without_bytecode):.3f} s |"
    )


if __name__ == "__main__":
    main()
