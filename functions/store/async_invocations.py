"""Asynchronous Lambda invocations: the event is queued by Lambda and the call returns at once."""

from __future__ import annotations

import json

from functions.store.aws_clients import client


def invoke(function_name: str, event: dict) -> None:
    client("lambda").invoke(
        FunctionName=function_name, InvocationType="Event", Payload=json.dumps(event).encode()
    )
