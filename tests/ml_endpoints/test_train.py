"""The SageMaker training entry point, run as a real process in a temporary /opt/ml layout."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from ml_endpoints.models.text_classifier import ARTIFACT_NAME, Classifier
from tests.ml_endpoints.support import ROOT, export_tasks, reviews


def layout(root, tasks, hyperparameters=None, channel="training"):
    (root / "input" / "data" / channel).mkdir(parents=True)
    (root / "input" / "config").mkdir(parents=True)
    (root / "input" / "data" / channel / "export.json").write_text(
        tasks if isinstance(tasks, str) else json.dumps(tasks)
    )
    (root / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hyperparameters or {}))
    return root


def run_training(root, *args):
    env = {**os.environ, "SM_ROOT": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "ml_endpoints", "train", *args],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_training_job_writes_an_artifact_and_reports_held_out_accuracy(tmp_path):
    data = reviews(60)
    # SageMaker hands hyperparameters over as strings.
    root = layout(tmp_path / "ml", export_tasks(data), {"validation_fraction": "0.25", "seed": "3"})
    done = run_training(root)
    assert done.returncode == 0, done.stderr
    # What a SageMaker metric definition `validation:accuracy=([0-9.]+)` reads from the log.
    accuracy = float(re.search(r"validation:accuracy=([0-9.]+);", done.stdout).group(1))
    assert accuracy >= 0.8  # chance is 0.5
    assert re.search(r"validation:examples=15;", done.stdout)
    metrics = json.loads((root / "model" / "metrics.json").read_text())
    assert round(metrics["validation:accuracy"], 4) == accuracy and metrics["train:examples"] == 45
    assert json.loads((root / "output" / "data" / "metrics.json").read_text()) == metrics
    assert not (root / "output" / "failure").exists()
    classifier = Classifier(json.loads((root / "model" / ARTIFACT_NAME).read_text()))
    assert classifier.model_version == metrics["model_version"]
    [(label, score)] = classifier.top(["what a wonderful amazing phone"])
    assert label == "Positive" and 0.5 < score <= 1


def test_bad_data_fails_with_a_failure_file_and_no_artifact(tmp_path):
    not_json = run_training(layout(tmp_path / "a", "[{oops"))
    assert not_json.returncode == 1
    assert "export.json is not JSON" in (tmp_path / "a" / "output" / "failure").read_text()

    one_class = layout(tmp_path / "b", export_tasks([("good", "Positive")] * 10))
    done = run_training(one_class)
    assert done.returncode == 1
    reason = (one_class / "output" / "failure").read_text()
    assert "10 usable annotation(s) of 1 class(es)" in reason and reason in done.stderr
    assert not (one_class / "model" / ARTIFACT_NAME).exists()

    missing_channel = layout(tmp_path / "c", export_tasks(reviews(8)), {"channel": "train"})
    assert run_training(missing_channel).returncode == 1
    assert "channel 'train' not found" in (missing_channel / "output" / "failure").read_text()


def test_root_can_also_be_given_on_the_command_line(tmp_path):
    root = layout(tmp_path / "ml", export_tasks(reviews(20)), channel="labels")
    done = subprocess.run(
        [sys.executable, "-m", "ml_endpoints.train", "--root", str(root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (root / "model" / ARTIFACT_NAME).exists()  # the only channel is used when none is named
