"""SageMaker training entry point for the text classifier, in the `/opt/ml` layout.

    <root>/input/config/hyperparameters.json   strings, as SageMaker writes them (all optional):
                                                channel, from_name, text_key, validation_fraction, seed, C
    <root>/input/data/<channel>/*.json          Label Studio JSON exports: lists of tasks with annotations
    <root>/model/                               the artifact (text_classifier.json) and metrics.json
    <root>/output/data/metrics.json             the same metrics, in the job's output
    <root>/output/failure                       why the job failed (SageMaker shows it as FailureReason)

`<root>` is `/opt/ml`, or `$SM_ROOT` / `--root` so tests and the local stack run it in a folder.
A held-out split (stratified when every class has two examples) measures the artifact that is written,
which is trained on the rest; metrics are printed as `validation:accuracy=0.9500;` for a SageMaker
metric definition such as `validation:accuracy=([0-9.]+)`. Bad data exits 1 with a failure file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from ml_endpoints import artifacts
from ml_endpoints.models.text_classifier import (
    ARTIFACT_NAME,
    NotEnoughData,
    accuracy,
    examples_from_tasks,
    split,
    train,
)

DEFAULT_CHANNEL = "training"
MIN_EXAMPLES = 4
MAX_DATASET_BYTES = 2 * 1024 * 1024 * 1024


class BadData(ValueError):
    """The dataset or the hyperparameters cannot train a model; the message goes to the failure file."""


def read_hyperparameters(root: Path) -> dict[str, str]:
    path = root / "input" / "config" / "hyperparameters.json"
    if not path.exists():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadData(f"{path.name} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise BadData(f"{path.name} must be a JSON object")
    return {str(key): str(value) for key, value in document.items()}


def channel_dir(root: Path, name: str | None) -> Path:
    data = root / "input" / "data"
    if name:
        if not (data / name).is_dir():
            raise BadData(f"input channel {name!r} not found under input/data")
        return data / name
    if (data / DEFAULT_CHANNEL).is_dir():
        return data / DEFAULT_CHANNEL
    channels = [path for path in data.glob("*") if path.is_dir()] if data.is_dir() else []
    if len(channels) != 1:
        raise BadData(
            f"expected the input channel {DEFAULT_CHANNEL!r} (or exactly one channel) under "
            f"input/data; found {sorted(path.name for path in channels)}"
        )
    return channels[0]


def read_tasks(directory: Path) -> list[dict]:
    files = sorted(path for path in directory.rglob("*.json") if path.is_file())
    if not files:
        raise BadData(f"no .json files in input/data/{directory.name}")
    if sum(path.stat().st_size for path in files) > MAX_DATASET_BYTES:
        raise BadData(f"the dataset is over {MAX_DATASET_BYTES} bytes")
    tasks: list[dict] = []
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadData(f"{path.name} is not JSON: {exc}") from None
        if isinstance(document, dict):
            document = [document]
        if not isinstance(document, list) or not all(isinstance(task, dict) for task in document):
            raise BadData(f"{path.name} must be a Label Studio JSON export: a list of task objects")
        tasks.extend(document)
    return tasks


def text_key_of(tasks: list[dict], wanted: str | None) -> str:
    """The `data` key holding the text: as asked, else `text`, else the tasks' one string field."""
    if wanted:
        return wanted
    datas = [data for task in tasks if isinstance(data := task.get("data"), dict)]
    if any("text" in data for data in datas):
        return "text"
    keys = {key for data in datas for key, value in data.items() if isinstance(value, str)}
    if len(keys) != 1:
        raise BadData(
            f"cannot tell which data field holds the text (string fields: {sorted(keys)}); "
            "set the hyperparameter text_key"
        )
    return keys.pop()


def run(root: Path) -> dict:
    """Train from `root`'s layout; return the metrics. Raises BadData for data that cannot train."""
    hyper = read_hyperparameters(root)
    try:
        fraction = float(hyper.get("validation_fraction", "0.2"))
        seed = int(hyper.get("seed", "0"))
        c = float(hyper.get("C", "4.0"))
    except ValueError as exc:
        raise BadData(f"bad hyperparameter: {exc}") from None
    if not 0 < fraction < 1 or c <= 0:
        raise BadData("validation_fraction must be between 0 and 1 and C above 0")
    tasks = read_tasks(channel_dir(root, hyper.get("channel")))
    from_name = hyper.get("from_name") or None
    examples = examples_from_tasks(tasks, from_name, text_key_of(tasks, hyper.get("text_key")))
    classes = sorted({example.label for example in examples})
    if len(examples) < MIN_EXAMPLES or len(classes) < 2:
        raise BadData(
            f"{len(tasks)} task(s) gave {len(examples)} usable annotation(s) of {len(classes)} "
            f"class(es); training needs at least {MIN_EXAMPLES} of two classes or more"
        )
    training, validation = split(examples, fraction, seed)
    try:
        document = train(training, from_name=from_name, c=c)
    except NotEnoughData as exc:
        raise BadData(f"the training split: {exc}") from None
    metrics = {
        "validation:accuracy": accuracy(document, validation),
        "train:accuracy": accuracy(document, training),
        "train:examples": len(training),
        "validation:examples": len(validation),
        "classes": classes,
        "model_version": document["model_version"],
    }
    document["metrics"] = metrics
    artifacts.write_json(root / "model" / ARTIFACT_NAME, document)
    artifacts.write_json(root / "model" / "metrics.json", metrics)
    artifacts.write_json(root / "output" / "data" / "metrics.json", metrics)
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", default=os.environ.get("SM_ROOT", "/opt/ml"))
    root = Path(parser.parse_args(argv).root)
    try:
        metrics = run(root)
    except Exception as exc:
        reason = str(exc) if isinstance(exc, BadData) else f"{type(exc).__name__}: {exc}"
        (root / "output").mkdir(parents=True, exist_ok=True)
        (root / "output" / "failure").write_text(reason[:1024], encoding="utf-8")
        print(f"training failed: {reason}", file=sys.stderr, flush=True)
        if not isinstance(exc, BadData):
            traceback.print_exc()
        return 1
    for name in ("train:examples", "validation:examples", "train:accuracy", "validation:accuracy"):
        value = metrics[name]
        print(f"{name}={value:.4f};" if isinstance(value, float) else f"{name}={value};", flush=True)
    print(f"model_version={metrics['model_version']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
