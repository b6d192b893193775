"""Lambda code bundled without Docker.

`cdk synth` must work on a laptop or CI runner with no Docker engine, so the Lambda bundle is built by pip
on the synthesizing machine: wheels for the Lambda's platform and Python (`--platform`, `--python-version`,
binary wheels only), plus the `functions` package. Two choices keep cold starts short and the zip small:

- boto3 and botocore are left out: the Lambda runtime ships them, and they are half the bundle's size.
- Bytecode is compiled by the interpreter running the synth, which is why the function runs that same Python
  minor version (`lambda_runtime()`). Lambda's code folder is read-only, so a bundle without bytecode
  recompiles every module on every cold start (about 1.4 s instead of 0.5 s for the API handler). The
  `unchecked-hash` mode matters: CDK zips assets with fixed timestamps, which would make timestamp-checked
  bytecode look stale.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# What goes into the bundle besides the third-party wheels.
BUNDLED_PACKAGES = ("functions",)
# Shipped by the Lambda Python runtime (boto3 and what botocore needs); the bundle uses the runtime's copies,
# so a bundled urllib3 cannot shadow the one the runtime's botocore was built against.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six")
_DISTRIBUTIONS = {"python_dateutil": "dateutil"}

_PLATFORMS = {
    lambda_.Architecture.ARM_64.name: "manylinux2014_aarch64",
    lambda_.Architecture.X86_64.name: "manylinux2014_x86_64",
}


def python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def lambda_runtime() -> lambda_.Runtime:
    """The Lambda runtime for the Python that compiles the bundle's bytecode (see the module docstring)."""
    runtime = getattr(lambda_.Runtime, f"PYTHON_{sys.version_info.major}_{sys.version_info.minor}", None)
    if runtime is None:
        raise RuntimeError(
            f"no Lambda runtime for Python {python_version()}: synthesize with Python 3.11-3.14"
        )
    return runtime


def lambda_requirements() -> list[str]:
    """The Lambda's third-party dependencies: the project's base `dependencies`, nothing from the extras."""
    with open(PROJECT_ROOT / "pyproject.toml", "rb") as file:
        return list(tomllib.load(file)["project"]["dependencies"])


def build_bundle(output_dir: Path, *, platform: str, target_python: str | None = None) -> None:
    """Write the Lambda bundle into `output_dir`: wheels for `platform`, the project's code, bytecode."""
    target_python = target_python or python_version()
    output_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603 -- this interpreter's pip over pyproject.toml's dependencies, no shell
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-warn-conflicts",
            "--no-compile",
            "--target",
            str(output_dir),
            "--platform",
            platform,
            "--implementation",
            "cp",
            "--python-version",
            target_python,
            "--only-binary=:all:",
            *lambda_requirements(),
        ],
        check=True,
    )
    for installed in list(output_dir.iterdir()):
        name = installed.name.split("-")[0].lower() if installed.suffix == ".dist-info" else installed.stem
        if _DISTRIBUTIONS.get(name, name) in RUNTIME_PROVIDED or installed.name == "bin":
            shutil.rmtree(installed) if installed.is_dir() else installed.unlink()
    for package in BUNDLED_PACKAGES:
        shutil.copytree(
            PROJECT_ROOT / package,
            output_dir / package,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    if target_python == python_version():
        subprocess.run(  # noqa: S603 -- this interpreter's compileall over our own output, no shell
            [
                sys.executable,
                "-m",
                "compileall",
                "-q",
                "-j",
                "0",
                "--invalidation-mode",
                "unchecked-hash",
                str(output_dir),
            ],
            check=True,
        )


def _source_hash(platform: str) -> str:
    """Changes when anything that goes into the bundle does, without hashing the whole work tree."""
    digest = hashlib.sha256("\n".join([platform, python_version(), *lambda_requirements()]).encode())
    for package in BUNDLED_PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@jsii.implements(ILocalBundling)
class _PipBundler:
    def __init__(self, platform: str):
        self._platform = platform

    def try_bundle(self, output_dir: str, _options) -> bool:
        build_bundle(Path(output_dir), platform=self._platform)
        return True


def lambda_code(architecture: lambda_.Architecture) -> lambda_.Code:
    """The one code asset every labelstack Lambda runs (they differ only in their handler)."""
    platform = _PLATFORMS[architecture.name]
    return lambda_.Code.from_asset(
        str(PROJECT_ROOT / "functions"),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=_source_hash(platform),
        # The image is only the fallback CDK requires a bundler to name; the local bundler always runs.
        bundling=BundlingOptions(image=lambda_runtime().bundling_image, local=_PipBundler(platform)),
    )


def link_runtime_packages(into: Path) -> Path:
    """A folder holding this environment's copies of `RUNTIME_PROVIDED`: with a bundle, what a Lambda's
    `sys.path` holds. Tests and the bundle benchmark run a bundle outside Lambda with it."""
    import importlib.util

    into.mkdir(parents=True, exist_ok=True)
    for package in RUNTIME_PROVIDED:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"{package} is not installed here; the Lambda runtime provides it")
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        link = into / source.name
        if not link.exists():
            link.symlink_to(source)
    return into
