"""The CDK app: `cdk synth` / `cdk deploy` (cdk.json runs this file).

Stage settings come from context (`-c stage=prod`, see infra/aws/stage.py). cdk-nag's AwsSolutions
checks run as a validation plugin: an unsuppressed error fails the synth.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# `cdk` runs this file as a script; the project's packages live one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.aws.app_functions import ARCHITECTURE
from infra.aws.bundling import lambda_code, lambda_runtime
from infra.aws.stack import LabelstackStack
from infra.aws.stage import Stage

WEB_DIR = Path(__file__).resolve().parents[1] / "web"


def build_app(context: dict | None = None, web_dir: Path = WEB_DIR) -> tuple[cdk.App, LabelstackStack]:
    """The app and its one stack; `web_dir` is deployed to the site bucket once it holds an index.html."""
    app = cdk.App(context=context)
    stage = Stage.from_context(app.node)
    stack = LabelstackStack(
        app,
        f"labelstack-{stage.name}",
        stage=stage,
        code=lambda_code(ARCHITECTURE),
        runtime=lambda_runtime(),
        site_dir=web_dir if (web_dir / "index.html").exists() else None,
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
        ),
        description="labelstack: a Label Studio-compatible labeling platform",
    )
    cdk.Tags.of(app).add("project", "labelstack")
    cdk.Tags.of(app).add("stage", stage.name)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


if __name__ == "__main__":
    build_app()[0].synth()
