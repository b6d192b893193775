"""The CDK app synthesized once per configuration, with cdk-nag on, bundling skipped (the bundle has its
own test and benchmark)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

STAGE = "test"
FULL_CONTEXT = {
    "stage": "prod",
    "modelImageUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/labelstack-model:1",
    "domainName": "label.example.com",
    "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0d8c6e2a",
    "alarmEmail": "ops@example.com",
}


def synth(context: dict, web_dir=None):
    from aws_cdk.assertions import Template

    from infra.app import build_app

    app, stack = build_app(
        {"aws:cdk:bundling-stacks": [], **context}, **({"web_dir": web_dir} if web_dir else {})
    )
    app.synth()  # runs the cdk-nag validation plugin: raises on any unsuppressed finding
    return stack, Template.from_stack(stack)


@pytest.fixture(scope="session")
def default_stack():
    """What a first `cdk deploy -c stage=test` creates."""
    return synth({"stage": STAGE})


@pytest.fixture(scope="session")
def full_stack(tmp_path_factory):
    """Every option on: the built-in model endpoint, a custom domain, alarm email, and a web/ folder."""
    site = tmp_path_factory.mktemp("web")
    (site / "index.html").write_text("<!doctype html><title>labelstack</title>")
    return synth(FULL_CONTEXT, web_dir=site)
