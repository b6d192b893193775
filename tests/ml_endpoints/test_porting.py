"""A model written for the PyPI `label-studio-ml` package (1.0.9) runs under ml_endpoints after changing
only its import, and answers what it answers under label-studio-ml's own server."""

from __future__ import annotations

import importlib
import textwrap

import httpx

from tests.ml_endpoints.support import (
    SENTIMENT_CONFIG,
    choices_annotation,
    export_tasks,
    model_server,
    predict_body,
)

LEGACY_IMPORT = "from label_studio_ml.model import LabelStudioMLBase"
OUR_IMPORT = "from ml_endpoints.model import LabelStudioMLBase"

# Written the way label-studio-ml 1.0.9's examples are: config read in __init__, training output handed
# back through `train_output`, `fit(completions, workdir, **kwargs)`.
MODEL_SOURCE = textwrap.dedent(f"""
    {LEGACY_IMPORT}


    class KeywordSentiment(LabelStudioMLBase):
        def __init__(self, **kwargs):
            super(KeywordSentiment, self).__init__(**kwargs)
            self.from_name, info = list(self.parsed_label_config.items())[0]
            self.to_name = info["to_name"][0]
            self.value = info["inputs"][0]["value"]
            self.labels = info["labels"]
            self.positive = set(self.train_output.get("positive", ["good"]))

        def predict(self, tasks, **kwargs):
            predictions = []
            for task in tasks:
                words = task["data"][self.value].lower().split()
                hits = sum(word in self.positive for word in words)
                label = self.labels[0] if hits else self.labels[1]
                predictions.append({{"result": [{{"from_name": self.from_name, "to_name": self.to_name,
                                                  "type": "choices", "value": {{"choices": [label]}}}}],
                                     "score": round(hits / len(words), 4)}})
            return predictions

        def fit(self, completions, workdir=None, **kwargs):
            tasks = list(completions)
            data = kwargs.get("data") or {{}}
            if data.get("annotation"):
                tasks.append(dict(data["task"], annotations=[data["annotation"]]))
            positive = set(self.positive)
            for task in tasks:
                for annotation in task["annotations"]:
                    if annotation["result"][0]["value"]["choices"] == [self.labels[0]]:
                        positive.update(task["data"][self.value].lower().split())
            return {{"positive": sorted(positive)}}
""")

TASKS = [
    {"id": 1, "data": {"text": "good phone"}},
    {"id": 2, "data": {"text": "Shiny new case"}},
    {"id": 3, "data": {"text": "bad battery"}},
]


def write_models(folder):
    ported = MODEL_SOURCE.replace(LEGACY_IMPORT, OUR_IMPORT)
    changed = [(a, b) for a, b in zip(MODEL_SOURCE.splitlines(), ported.splitlines(), strict=True) if a != b]
    assert changed == [(LEGACY_IMPORT, OUR_IMPORT)]  # the port is the import line, nothing else
    (folder / "legacy_keywords.py").write_text(MODEL_SOURCE)
    (folder / "ported_keywords.py").write_text(ported)


def test_the_same_class_behaves_the_same_under_both_bases(tmp_path, monkeypatch, model_dir):
    write_models(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    legacy = importlib.import_module("legacy_keywords").KeywordSentiment
    ported = importlib.import_module("ported_keywords").KeywordSentiment

    # How each server builds it: label-studio-ml 1.0.9 by keywords, ml_endpoints with the project too.
    theirs, ours = (
        legacy(label_config=SENTIMENT_CONFIG),
        ported(project_id="14", label_config=SENTIMENT_CONFIG),
    )
    # The same structure; the current Label Studio adds `valueType` to each input, the 1.0.9 parser did not.
    for control in ours.parsed_label_config.values():
        assert [source.pop("valueType") for source in control["inputs"]] == [None]
    assert ours.parsed_label_config == theirs.parsed_label_config
    assert ours.predict(TASKS) == theirs.predict(TASKS)

    labeled = export_tasks([("shiny screen", "Positive"), ("dull case", "Negative")])
    output = theirs.fit(labeled, workdir=str(tmp_path))
    assert ours.fit(labeled, workdir=str(tmp_path)) == output == {"positive": ["good", "screen", "shiny"]}
    retrained_theirs = legacy(label_config=SENTIMENT_CONFIG, train_output=output)
    retrained_ours = ported(project_id="14", label_config=SENTIMENT_CONFIG, train_output=output)
    assert retrained_ours.predict(TASKS) == retrained_theirs.predict(TASKS)
    assert retrained_ours.predict(TASKS)[1]["result"][0]["value"]["choices"] == ["Positive"]


def test_ported_model_serves_what_label_studio_mls_server_serves(tmp_path, monkeypatch):
    write_models(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    from label_studio_ml.api import init_app

    their_server = init_app(
        importlib.import_module("legacy_keywords").KeywordSentiment, model_dir=str(tmp_path / "theirs")
    ).test_client()
    setup = {
        "project": "14.1795384847",
        "schema": SENTIMENT_CONFIG,
        "hostname": "",
        "access_token": "",
        "extra_params": None,
    }
    assert their_server.post("/setup", json=setup).status_code == 200
    theirs = their_server.post("/predict", json=predict_body(TASKS)).get_json()

    with model_server("ported_keywords:KeywordSentiment", tmp_path / "ours", python_path=tmp_path) as url:
        assert httpx.get(f"{url}/health").json() == {"status": "UP", "model_class": "KeywordSentiment"}
        first_version = httpx.post(f"{url}/setup", json=setup).json()["model_version"]
        ours = httpx.post(f"{url}/predict", json=predict_body(TASKS)).json()
        assert [{k: v for k, v in p.items() if k != "model_version"} for p in ours["results"]] == theirs[
            "results"
        ]
        assert all(p["model_version"] == first_version for p in ours["results"])

        # A training event reaches the 1.0.9-style fit; its output is the next instance's train_output,
        # and the run is a new model version, as label-studio-ml 1.0.9 does with its training jobs.
        event = {
            "action": "ANNOTATION_CREATED",
            "annotation": choices_annotation("Positive"),
            "task": {"id": 2, "data": {"text": "Shiny new case"}},
            "project": {"id": 14, "label_config": SENTIMENT_CONFIG},
        }
        trained = httpx.post(f"{url}/webhook", json=event)
        assert trained.status_code == 201
        assert trained.json() == {"result": {"positive": ["case", "good", "new", "shiny"]}, "status": "ok"}
        assert httpx.post(f"{url}/setup", json=setup).json()["model_version"] != first_version
        after = httpx.post(f"{url}/predict", json=predict_body(TASKS)).json()["results"]
        assert after[1]["result"][0]["value"]["choices"] == ["Positive"] and after[1]["score"] == 1.0
