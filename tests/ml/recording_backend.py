"""A label-studio-ml 1.0.9 backend (the keyword model) whose `fit()` writes down every event it is given,
so a test can see what reached the model's training through Label Studio's `/webhook` route.

    python -m tests.ml.recording_backend PORT MODEL_DIR

Each `fit()` call appends one JSON line to `MODEL_DIR/fit_events.jsonl`: the event's name, the project
id and the annotation id it carried. (The SDK runs `fit()` in a process of its own, forked from this one.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.ml import keyword_backend

EVENTS_FILE = "fit_events.jsonl"
_events: dict[str, Path] = {}


class RecordingKeywordSentiment(keyword_backend.KeywordSentiment):
    def fit(self, tasks, workdir=None, **kwargs):
        data = kwargs.get("data") or {}
        event = {
            "event": kwargs.get("event"),
            "project": (data.get("project") or {}).get("id"),
            "annotation": (data.get("annotation") or {}).get("id"),
            "result": (data.get("annotation") or {}).get("result"),
        }
        with _events["path"].open("a") as out:
            out.write(json.dumps(event) + "\n")
        return {"seen": event["event"]}


def read_events(model_dir: Path) -> list[dict]:
    path = Path(model_dir) / EVENTS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


if __name__ == "__main__":
    _events["path"] = Path(sys.argv[2]) / EVENTS_FILE
    keyword_backend.main(RecordingKeywordSentiment)
