"""Secrets Manager values, cached in this process (through Powertools' parameters utility)."""

from __future__ import annotations


def get_secret(arn: str, max_age: int = 300) -> str:
    # Imported on use: only a deployed stack keeps its signing key in Secrets Manager.
    from aws_lambda_powertools.utilities import parameters

    return parameters.get_secret(arn, max_age=max_age)
