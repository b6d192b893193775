"""The Lambda bundle as `cdk synth` builds it, built for this machine's platform so it can be run here:
lean (no boto3), with bytecode Lambda will use, and a handler that answers an HTTP API event."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.aws.bundling import RUNTIME_PROVIDED, build_bundle, link_runtime_packages

HERE_PLATFORM = "manylinux2014_x86_64" if os.uname().machine == "x86_64" else "manylinux2014_aarch64"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    build_bundle(out, platform=HERE_PLATFORM)
    return out


def run_in_lambda_layout(bundle: Path, runtime: Path, code: str) -> subprocess.CompletedProcess:
    """A fresh interpreter that sees only the bundle and the runtime's packages, as a Lambda does."""
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": f"{bundle}{os.pathsep}{runtime}",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "LABELSTACK_JWT_SECRET": "bundle-test-signing-key-long-enough-for-hs256",
    }
    return subprocess.run(
        [sys.executable, "-S", "-c", code], env=env, capture_output=True, text=True, check=False, timeout=120
    )


def test_the_bundle_leaves_out_what_the_runtime_ships_and_the_extras(bundle):
    names = {path.name.split("-")[0].lower() for path in bundle.iterdir()}
    assert "functions" in names and "fastapi" in names and "pynamodb" in names
    for package in (
        *RUNTIME_PROVIDED,
        "moto",
        "aws_cdk",
        "sagemaker",
        "sklearn",
        "infra",
        "ml_endpoints",
        "tests",
    ):
        assert package not in names, package


def test_every_module_ships_bytecode_that_ignores_timestamps(bundle):
    tag = sys.implementation.cache_tag
    sources = list((bundle / "functions").rglob("*.py"))
    assert len(sources) > 50
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        header = compiled.read_bytes()[:8]
        # PEP 552: flags word 1 = hash-based and unchecked, so CDK's fixed zip timestamps cannot stale it.
        assert int.from_bytes(header[4:8], "little") == 1, compiled


def test_the_bundled_api_handler_answers_an_http_api_event(bundle, tmp_path):
    runtime = link_runtime_packages(tmp_path / "runtime")
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/api/version",
        "rawQueryString": "",
        "headers": {"host": "example.cloudfront.net", "accept": "application/json"},
        "requestContext": {
            "http": {
                "method": "GET",
                "path": "/api/version",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "test",
            },
            "requestId": "r1",
            "routeKey": "$default",
            "stage": "$default",
            "domainName": "example.cloudfront.net",
            "accountId": "123456789012",
            "apiId": "api",
        },
        "isBase64Encoded": False,
    }
    code = (
        "import json\n"
        "import functions.handlers.api as api\n"
        "class Context:\n"
        "    function_name = 'labelstack-api'; memory_limit_in_mb = 1024; aws_request_id = 'r1'\n"
        "    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:labelstack-api'\n"
        f"print(json.dumps(api.handler(json.loads({json.dumps(json.dumps(event))}), Context())))\n"
    )
    result = run_in_lambda_layout(bundle, runtime, code)
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout.splitlines()[-1])
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["edition"] == "Community"
    # The imported fastapi is the bundle's, not this environment's.
    probe = run_in_lambda_layout(bundle, runtime, "import fastapi; print(fastapi.__file__)")
    assert probe.stdout.startswith(str(bundle)), probe.stdout + probe.stderr
