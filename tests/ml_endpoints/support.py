"""Data and a real model-server process on 127.0.0.1, shared by the ml_endpoints tests."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]

SENTIMENT_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
  </Choices>
</View>"""

NER_CONFIG = """<View>
  <Labels name="ner" toName="text">
    <Label value="ORG"/>
    <Label value="PRODUCT"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>"""

_GOOD = [
    "great",
    "excellent",
    "wonderful",
    "love",
    "perfect",
    "amazing",
    "fantastic",
    "happy",
    "superb",
    "lovely",
]
_BAD = [
    "terrible",
    "awful",
    "broken",
    "hate",
    "useless",
    "horrible",
    "disappointing",
    "poor",
    "worst",
    "refund",
]
_NOUNS = [
    "product",
    "phone",
    "service",
    "battery",
    "screen",
    "delivery",
    "price",
    "support",
    "case",
    "charger",
]
_FILLER = ["the", "it", "was", "really", "this", "my", "is", "quite", "so", "very"]


def reviews(count: int = 60, seed: int = 7) -> list[tuple[str, str]]:
    """Short reviews built from word lists: a sentiment word or two among neutral words, half each class."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        label = "Positive" if i % 2 == 0 else "Negative"
        words = rng.sample(_GOOD if label == "Positive" else _BAD, 2)[: rng.randint(1, 2)]
        words += [*rng.sample(_FILLER, 3), rng.choice(_NOUNS)]
        rng.shuffle(words)
        out.append((" ".join(words), label))
    return out


def choices_annotation(label: str, annotation_id: int = 1, **extra) -> dict:
    return {
        "id": annotation_id,
        "was_cancelled": False,
        "ground_truth": False,
        **extra,
        "result": [
            {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [label]}}
        ],
    }


def export_tasks(pairs: list[tuple[str, str]], first_id: int = 1) -> list[dict]:
    """A Label Studio JSON export of `pairs`: tasks with one annotation each."""
    return [
        {
            "id": first_id + i,
            "data": {"text": text},
            "annotations": [choices_annotation(label, 1000 + i)],
            "predictions": [],
        }
        for i, (text, label) in enumerate(pairs)
    ]


def predict_body(
    tasks: list[dict], label_config: str = SENTIMENT_CONFIG, context: dict | None = None
) -> dict:
    """Exactly what Label Studio (and labelstack's backend clients) send to `/predict`."""
    return {
        "tasks": tasks,
        "project": "14.1795384847",
        "label_config": label_config,
        "params": {"login": None, "password": None, "context": context},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def model_server(model: str, model_dir: Path, env: dict | None = None, python_path: Path | None = None):
    """`labelstack ml serve MODEL` as a real process on a free port; yields its base URL."""
    port = free_port()
    environment = {**os.environ, **(env or {})}
    if python_path:
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(python_path), environment.get("PYTHONPATH")])
        )
    command = [
        str(Path(sys.executable).with_name("labelstack")),
        "ml",
        "serve",
        model,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--model-dir",
        str(model_dir),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"model server exited: {process.stdout.read().decode()}")
            try:
                if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("model server did not answer /ping within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
