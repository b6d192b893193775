"""The local stack's training runner: the training state machine's steps, in order, in this process.

A started run goes to a worker thread, which calls the same step functions the state machine's Lambda
steps call (functions/services/training.py). SageMaker's steps are played by the local stack:

- the training job is `python -m ml_endpoints train` in a subprocess, over the `/opt/ml` layout in a
  temporary folder (the dataset in `input/data/training/`, the artifact back from `model/`);
- creating the model and updating the endpoint put the artifact into the local model server's folder
  (which serves a new artifact without a restart) and point the emulated endpoint at a new endpoint
  config, so its version changes as a real endpoint's does. The emulator has no UpdateEndpoint: the
  endpoint is deleted and created again under its name.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from functions.services import training
from functions.store import blobs
from functions.store.aws_clients import client

logger = logging.getLogger(__name__)


class LocalTrainingRunner:
    def __init__(self, model_dir: Path, timeout: float = 600):
        self.model_dir = Path(model_dir)
        self.timeout = timeout
        self._deploying = threading.Lock()

    def __call__(self, run_input: dict) -> None:
        worker = threading.Thread(
            target=self.run,
            args=(run_input["training_id"],),
            daemon=True,
            name=f"labelstack-training-{run_input['training_id']}",
        )
        worker.start()

    def run(self, training_id: int) -> None:
        try:
            prepared = training.prepare_dataset(training_id)
            if prepared["kind"] == "http":
                outcome = training.train_http(training_id)
                training.record_success(training_id, outcome["model_version"], outcome["metrics"])
                return
            metrics = self.training_job(prepared)
            self.deploy(prepared)
            training.record_success(training_id, prepared["endpoint_config_name"], metrics)
        except Exception as exc:  # the state machine's Catch: every failure ends the run with its reason
            logger.exception("local training run %s failed", training_id)
            training.record_failure(training_id, str(exc) or type(exc).__name__, "local")

    def training_job(self, prepared: dict) -> dict:
        """SageMaker's CreateTrainingJob, played by the image's own entry point in a subprocess."""
        with tempfile.TemporaryDirectory(prefix="labelstack-training-") as root:
            channel = Path(root, "input", "data", "training")
            channel.mkdir(parents=True)
            (channel / "tasks.json").write_bytes(blobs.get_bytes(prepared["dataset_key"]))
            done = subprocess.run(
                [sys.executable, "-m", "ml_endpoints", "train"],
                env={**os.environ, "SM_ROOT": root},
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
            if done.returncode != 0:
                failure = Path(root, "output", "failure")
                reason = failure.read_text().strip() if failure.exists() else done.stderr.strip()[-500:]
                raise RuntimeError(f"the training job failed: {reason}")
            staged = self.model_dir.parent / f".{self.model_dir.name}-run{prepared['training_id']}"
            shutil.rmtree(staged, ignore_errors=True)
            shutil.copytree(Path(root, "model"), staged)
            metrics_file = staged / "metrics.json"
            metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
        prepared["staged"] = str(staged)
        return metrics

    def deploy(self, prepared: dict) -> None:
        """CreateModel, CreateEndpointConfig and UpdateEndpoint, played locally."""
        staged = Path(prepared.pop("staged"))
        with self._deploying:
            for artifact in staged.iterdir():
                # Each file appears whole: the model server never reads half an artifact.
                os.replace(artifact, self.model_dir / artifact.name)
            shutil.rmtree(staged, ignore_errors=True)
            sagemaker = client("sagemaker")
            endpoint = sagemaker.describe_endpoint(EndpointName=prepared["endpoint_name"])
            current = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
            image = sagemaker.describe_model(ModelName=current["ProductionVariants"][0]["ModelName"])
            sagemaker.create_model(
                ModelName=prepared["model_name"],
                PrimaryContainer=image["PrimaryContainer"],
                ExecutionRoleArn=image["ExecutionRoleArn"],
            )
            variants = training.deploy_config(prepared["training_id"], prepared["model_name"])["variants"]
            sagemaker.create_endpoint_config(
                EndpointConfigName=prepared["endpoint_config_name"], ProductionVariants=variants
            )
            sagemaker.delete_endpoint(EndpointName=prepared["endpoint_name"])
            sagemaker.create_endpoint(
                EndpointName=prepared["endpoint_name"], EndpointConfigName=prepared["endpoint_config_name"]
            )
