"""The training steps Lambda: one step of the training state machine per invocation
(infra/aws/training.py; the steps are in functions/services/training.py)."""

from aws_lambda_powertools import Logger

from functions.services import training

logger = Logger(service="labelstack-training")


def _failure(event: dict) -> str:
    # What a state machine Catch puts under `error`: {"Error": name, "Cause": text}.
    error = event.get("error") or {}
    return ": ".join(part for part in (error.get("Error"), error.get("Cause")) if part) or "unknown error"


_STEPS = {
    "prepare_dataset": lambda e: training.prepare_dataset(e["training_id"]),
    "train_http": lambda e: training.train_http(e["training_id"]),
    "deploy_config": lambda e: training.deploy_config(e["training_id"], e["model_name"]),
    "record_success": lambda e: training.record_success(
        e["training_id"], e["model_version"], e.get("metrics") or training.metrics_of(e.get("final_metrics"))
    ),
    "record_failure": lambda e: training.record_failure(e["training_id"], _failure(e), e.get("execution")),
}


@logger.inject_lambda_context
def handler(event, context):
    return _STEPS[event["step"]](event)
