"""Where a started training run goes: an execution of the training state machine in AWS, or the local
stack's runner (there is no Step Functions locally)."""

from __future__ import annotations

import json
from collections.abc import Callable

from functions.settings import get_settings
from functions.store.aws_clients import client

# Set by the local stack: runs a started training's steps in order.
_local_runner: Callable[[dict], None] | None = None


def use_local_runner(runner: Callable[[dict], None] | None) -> None:
    global _local_runner
    _local_runner = runner


def launch(execution_name: str, run_input: dict) -> str:
    """Start the run's steps; the execution ARN, or "local"."""
    state_machine = get_settings().training_state_machine_arn
    if state_machine:
        answer = client("stepfunctions").start_execution(
            stateMachineArn=state_machine, name=execution_name, input=json.dumps(run_input)
        )
        return answer["executionArn"]
    if _local_runner is None:
        raise RuntimeError("no training runner: set LABELSTACK_TRAINING_STATE_MACHINE_ARN")
    _local_runner(run_input)
    return "local"
