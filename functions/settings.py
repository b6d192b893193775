"""One settings object, read from the environment.

Locally `labelstack dev` sets `LABELSTACK_AWS_ENDPOINT_URL` to the embedded emulator; in AWS it is unset and
boto3 talks to the real services. Table and bucket names come from the CDK stack through the same variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

VERSION = "0.1.0"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:  # a typo in a deployment setting should fail loudly at start-up
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from exc


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    region: str
    table_prefix: str
    aws_endpoint_url: str | None
    files_bucket: str
    jwt_secret: str | None
    jwt_secret_arn: str | None
    # Bounds on what a client may send us.
    max_request_bytes: int
    max_tasks_per_import: int
    # Files of one multipart import, as Label Studio bounds them: their sizes together
    # (TASKS_MAX_FILE_SIZE) and their number (DATA_UPLOAD_MAX_NUMBER_FILES).
    max_upload_bytes: int
    max_upload_files: int
    # Imports above this many tasks run as a background job the client polls.
    sync_import_limit: int
    # DynamoDB items are limited to 400 KB; JSON over this many bytes lives in S3 instead.
    offload_bytes: int
    access_token_seconds: int
    refresh_token_days: int
    # How long a task handed out by /next stays reserved for its annotator (Label Studio: TASK_LOCK_TTL).
    task_lock_seconds: int
    # Name of the Lambda that runs background jobs; unset means "run them in this process" (local stack).
    jobs_function_name: str | None
    # ML backends (functions/ml). Timeouts in seconds; Label Studio's defaults but for predictions.
    ml_connect_timeout: float = 1.0
    ml_health_timeout: float = 1.0
    ml_setup_timeout: float = 3.0
    # A new backend's `timeout` (Label Studio: 100 s): what one /predict may take in a background job.
    ml_predict_timeout: float = 20.0
    # What all backend calls of one API request may take together, whatever the backend's `timeout`:
    # API Gateway gives the API Lambda 29 s.
    ml_api_timeout: float = 20.0
    # The training call (START_TRAINING to /webhook): the SDK fits synchronously, in a background run.
    ml_train_timeout: float = 100.0
    # Threads for API requests waiting on backends, apart from those every other route runs on.
    ml_call_threads: int = 64
    # A backend whose predictions failed is not asked again when a task is opened for this many seconds.
    ml_retry_after: float = 60.0
    # Prediction when a task is opened: the annotator waits on it, so it is short.
    ml_task_load_timeout: float = 2.0
    ml_retries: int = 2  # retries of a failed connection (not of an answered request)
    ml_batch_size: int = 100  # tasks per /predict call
    ml_sync_predict_limit: int = 1000  # larger selections are predicted by a background job
    ml_max_response_bytes: int = 50 * 1024 * 1024
    # Hosts and CIDR ranges the server may call although they are private (the local stack: 127.0.0.1).
    allowed_hosts: str = ""
    # The SageMaker runtime endpoint (InvokeEndpoint); the local stack points it at the local model server.
    sagemaker_runtime_url: str | None = None
    # Only endpoints whose name starts with this may be registered ("" = any the role may invoke).
    sagemaker_endpoint_prefix: str = ""
    # The training state machine (infra/aws/training.py); unset, the local stack's runner trains in-process.
    training_state_machine_arn: str | None = None
    # How long a browser session (the web UI's cookie) lasts.
    session_hours: int = 336
    # How long an invitation link can be used (once).
    invite_days: int = 7
    # Webhooks: the SQS queue deliveries go through (its name; the dead-letter queue is set on the queue),
    # the receiver's time to answer, and how many attempts the queue makes (its maxReceiveCount).
    deliveries_queue: str = "labelstack-deliveries"
    webhook_timeout: float = 3.0
    webhook_max_attempts: int = 5
    # Where data lives: "dynamodb" (AWS, or the emulator) or "sqlite" (one machine: a SQLite database and
    # a files directory under `data_dir`). Only functions/store reads these two.
    store_engine: str = "dynamodb"
    data_dir: str | None = None

    def table_name(self, short: str) -> str:
        return f"{self.table_prefix}{short}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        table_prefix=os.environ.get("LABELSTACK_TABLE_PREFIX", "labelstack-"),
        aws_endpoint_url=os.environ.get("LABELSTACK_AWS_ENDPOINT_URL") or None,
        files_bucket=os.environ.get("LABELSTACK_FILES_BUCKET", "labelstack-files"),
        jwt_secret=os.environ.get("LABELSTACK_JWT_SECRET") or None,
        jwt_secret_arn=os.environ.get("LABELSTACK_JWT_SECRET_ARN") or None,
        max_request_bytes=_int("LABELSTACK_MAX_REQUEST_BYTES", 100 * 1024 * 1024),
        max_tasks_per_import=_int("LABELSTACK_MAX_TASKS_PER_IMPORT", 1_000_000),
        max_upload_bytes=_int("LABELSTACK_MAX_UPLOAD_BYTES", 250 * 1024 * 1024),
        max_upload_files=_int("LABELSTACK_MAX_UPLOAD_FILES", 100),
        sync_import_limit=_int("LABELSTACK_SYNC_IMPORT_LIMIT", 10_000),
        offload_bytes=_int("LABELSTACK_OFFLOAD_BYTES", 300_000),
        access_token_seconds=_int("LABELSTACK_ACCESS_TOKEN_SECONDS", 300),
        refresh_token_days=_int("LABELSTACK_REFRESH_TOKEN_DAYS", 365),
        task_lock_seconds=_int("LABELSTACK_TASK_LOCK_SECONDS", 86_400),
        jobs_function_name=os.environ.get("LABELSTACK_JOBS_FUNCTION") or None,
        ml_connect_timeout=_float("LABELSTACK_ML_CONNECT_TIMEOUT", 1.0),
        ml_health_timeout=_float("LABELSTACK_ML_HEALTH_TIMEOUT", 1.0),
        ml_setup_timeout=_float("LABELSTACK_ML_SETUP_TIMEOUT", 3.0),
        ml_predict_timeout=_float("LABELSTACK_ML_PREDICT_TIMEOUT", 20.0),
        ml_api_timeout=_float("LABELSTACK_ML_API_TIMEOUT", 20.0),
        ml_train_timeout=_float("LABELSTACK_ML_TRAIN_TIMEOUT", 100.0),
        ml_call_threads=max(1, _int("LABELSTACK_ML_CALL_THREADS", 64)),
        ml_retry_after=_float("LABELSTACK_ML_RETRY_AFTER", 60.0),
        ml_task_load_timeout=_float("LABELSTACK_ML_TASK_LOAD_TIMEOUT", 2.0),
        ml_retries=_int("LABELSTACK_ML_RETRIES", 2),
        ml_batch_size=max(1, _int("LABELSTACK_ML_BATCH_SIZE", 100)),
        ml_sync_predict_limit=_int("LABELSTACK_ML_SYNC_PREDICT_LIMIT", 1000),
        ml_max_response_bytes=_int("LABELSTACK_ML_MAX_RESPONSE_BYTES", 50 * 1024 * 1024),
        allowed_hosts=os.environ.get("LABELSTACK_ALLOWED_HOSTS", ""),
        sagemaker_runtime_url=os.environ.get("LABELSTACK_SAGEMAKER_RUNTIME_URL") or None,
        sagemaker_endpoint_prefix=os.environ.get("LABELSTACK_SAGEMAKER_ENDPOINT_PREFIX", ""),
        training_state_machine_arn=os.environ.get("LABELSTACK_TRAINING_STATE_MACHINE_ARN") or None,
        session_hours=max(1, _int("LABELSTACK_SESSION_HOURS", 336)),
        invite_days=max(1, _int("LABELSTACK_INVITE_DAYS", 7)),
        deliveries_queue=os.environ.get("LABELSTACK_DELIVERIES_QUEUE")
        or f"{os.environ.get('LABELSTACK_TABLE_PREFIX', 'labelstack-')}deliveries",
        webhook_timeout=_float("LABELSTACK_WEBHOOK_TIMEOUT", 3.0),
        webhook_max_attempts=max(1, _int("LABELSTACK_WEBHOOK_MAX_ATTEMPTS", 5)),
        store_engine=_engine(os.environ.get("LABELSTACK_STORE_ENGINE") or "dynamodb"),
        data_dir=os.environ.get("LABELSTACK_DATA_DIR") or None,
    )


def _engine(name: str) -> str:
    if name not in ("dynamodb", "sqlite"):
        raise ValueError(
            f"environment variable LABELSTACK_STORE_ENGINE must be dynamodb or sqlite, got {name!r}"
        )
    return name
