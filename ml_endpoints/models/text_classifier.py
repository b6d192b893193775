"""Text classifier: TF-IDF + logistic regression for a `<Choices>` on a `<Text>`.

It learns from annotations (webhook events one at a time, the legacy `/train` body, or a Label Studio JSON
export through `ml_endpoints.train`), predicts the top class with the probability the regression gives it,
and says nothing while untrained. The artifact is JSON (vocabulary, idf, coefficients, classes), rebuilt
into scikit-learn objects on load: never a pickle.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml_endpoints import artifacts
from ml_endpoints.model import LabelStudioMLBase, ModelResponse, PredictionValue, model_dir

ARTIFACT_NAME = "text_classifier.json"
EXAMPLES_NAME = "text_classifier-examples.json"
FORMAT = "labelstack.text_classifier/1"
MAX_EXAMPLES = 200_000
# A training run (START_TRAINING) also measures the model on examples it did not see, once there are this
# many; fewer would make the number noise.
MIN_HELD_OUT_EXAMPLES = 10
HELD_OUT_FRACTION = 0.2
UNTRAINED_VERSION = "text_classifier-untrained"

_VECTORIZER_PARAMS: dict[str, Any] = {
    "lowercase": True,
    "ngram_range": [1, 2],
    "sublinear_tf": True,
    "min_df": 1,
    "norm": "l2",
    "smooth_idf": True,
    "use_idf": True,
    "token_pattern": r"(?u)\b\w+\b",
}
# What an artifact may set on the vectorizer, each with the values it may take. Anything else is refused,
# not ignored: `input="filename"` makes `transform` open each task text as a local path, `analyzer`,
# `preprocessor` and `tokenizer` take code, and `token_pattern` is a regex run on every text by a
# backtracking engine (so only the patterns this code and scikit-learn write).
_TOKEN_PATTERNS = (_VECTORIZER_PARAMS["token_pattern"], r"(?u)\b\w\w+\b")
_MAX_NGRAM = 3


def _is_ngram_range(value) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in value)
        and 1 <= value[0] <= value[1] <= _MAX_NGRAM
    )


def _is_min_df(value) -> bool:
    if isinstance(value, bool):
        return False
    return (isinstance(value, int) and value >= 1) or (isinstance(value, float) and 0.0 <= value <= 1.0)


_PARAM_CHECKS = {
    "lowercase": (lambda v: isinstance(v, bool), "true or false"),
    "ngram_range": (_is_ngram_range, f"[min, max] with 1 <= min <= max <= {_MAX_NGRAM}"),
    "sublinear_tf": (lambda v: isinstance(v, bool), "true or false"),
    "min_df": (_is_min_df, "a count of at least 1 or a fraction between 0 and 1"),
    "norm": (lambda v: v in ("l1", "l2", None), '"l1", "l2" or null'),
    "smooth_idf": (lambda v: isinstance(v, bool), "true or false"),
    "use_idf": (lambda v: isinstance(v, bool), "true or false"),
    "binary": (lambda v: isinstance(v, bool), "true or false"),
    "strip_accents": (lambda v: v in ("ascii", "unicode", None), '"ascii", "unicode" or null'),
    "token_pattern": (lambda v: v in _TOKEN_PATTERNS, " or ".join(json.dumps(p) for p in _TOKEN_PATTERNS)),
}
_examples_lock = threading.Lock()


class NotEnoughData(ValueError):
    """The examples cannot train a classifier (fewer than two classes, or no examples)."""


class InvalidArtifact(ValueError):
    """An artifact file that is not a text classifier this code wrote."""


@dataclass(frozen=True)
class Example:
    key: str  # the task it came from: a newer annotation of the same task replaces it
    text: str
    label: str


# -- examples from Label Studio JSON ----------------------------------------------------------------


def choice_of(annotation: dict, from_name: str | None) -> str | None:
    """The first choice an annotation made in `from_name` (or in any choices control if None)."""
    if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
        return None
    for region in annotation.get("result") or []:
        if not isinstance(region, dict) or region.get("type") != "choices":
            continue
        if from_name and region.get("from_name") != from_name:
            continue
        choices = (region.get("value") or {}).get("choices") or []
        if choices and isinstance(choices[0], str):
            return choices[0]
    return None


def example_from_task(task: dict, annotations: list, from_name: str | None, text_key: str) -> Example | None:
    """The task's text with the label of its latest usable annotation."""
    if not isinstance(task, dict):
        return None
    text = (task.get("data") or {}).get(text_key)
    if not isinstance(text, str) or not text.strip():
        return None
    usable = [a for a in annotations if choice_of(a, from_name)]
    if not usable:
        return None
    latest = max(
        usable, key=lambda a: (str(a.get("updated_at") or a.get("created_at") or ""), a.get("id") or 0)
    )
    key = str(task["id"]) if task.get("id") is not None else hashlib.sha256(text.encode()).hexdigest()
    return Example(key, text, choice_of(latest, from_name))  # type: ignore[arg-type]  # usable: has one


def examples_from_tasks(tasks: list, from_name: str | None, text_key: str) -> list[Example]:
    found = (
        example_from_task(task, task.get("annotations") or [], from_name, text_key)
        for task in tasks
        if isinstance(task, dict)
    )
    return [example for example in found if example]


# -- training and the artifact -----------------------------------------------------------------------


def train(
    examples: list[Example], *, from_name: str | None = None, to_name: str | None = None, c: float = 4.0
) -> dict:
    """Fit TF-IDF + logistic regression; return the artifact document."""
    # scikit-learn with numpy and scipy is ~110 MB resident: imported when a model is first trained or
    # loaded, so a model server (labelstack dev starts one) that no project uses stays small.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    labels = sorted({example.label for example in examples})
    if len(labels) < 2:
        raise NotEnoughData(
            f"training needs examples of at least two classes; got {len(examples)} "
            f"example(s) of {len(labels)} class(es)"
        )
    vectorizer = TfidfVectorizer(
        **{**_VECTORIZER_PARAMS, "ngram_range": tuple(_VECTORIZER_PARAMS["ngram_range"])}
    )
    features = vectorizer.fit_transform([example.text for example in examples])
    regression = LogisticRegression(C=c, max_iter=2000)
    regression.fit(features, [example.label for example in examples])
    weights = {
        "classes": regression.classes_.tolist(),
        "coef": regression.coef_.tolist(),
        "intercept": regression.intercept_.tolist(),
    }
    vocabulary = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
    digest = hashlib.sha256(json.dumps([vocabulary, weights], sort_keys=True).encode()).hexdigest()[:10]
    return {
        "format": FORMAT,
        "model_version": f"text_classifier-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{digest}",
        "from_name": from_name,
        "to_name": to_name,
        "examples": len(examples),
        "vectorizer": {
            # A copy: whoever holds the document may change it, and these are the defaults of the next one.
            "params": {**_VECTORIZER_PARAMS, "ngram_range": list(_VECTORIZER_PARAMS["ngram_range"])},
            "vocabulary": vocabulary,
            "idf": vectorizer.idf_.tolist(),
        },
        "logistic_regression": weights,
    }


class Classifier:
    """A loaded artifact: scikit-learn objects rebuilt from the JSON numbers."""

    def __init__(self, document: dict):
        import numpy as np  # see train() for why here
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        try:
            if document.get("format") != FORMAT:
                raise InvalidArtifact(f"not a {FORMAT} artifact")
            vocabulary = {
                str(term): int(index) for term, index in document["vectorizer"]["vocabulary"].items()
            }
            idf = np.asarray(document["vectorizer"]["idf"], dtype=float)
            weights = document["logistic_regression"]
            classes = np.asarray([str(label) for label in weights["classes"]])
            coef = np.asarray(weights["coef"], dtype=float)
            intercept = np.asarray(weights["intercept"], dtype=float)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidArtifact(f"malformed text classifier artifact: {exc}") from None
        rows = 1 if len(classes) == 2 else len(classes)
        if (
            len(classes) < 2
            or idf.ndim != 1
            or coef.shape != (rows, len(idf))
            or intercept.shape != (rows,)
            or sorted(vocabulary.values()) != list(range(len(idf)))
        ):
            raise InvalidArtifact("text classifier artifact shapes do not agree")
        params = _vectorizer_params(document["vectorizer"].get("params"))
        self.vectorizer = TfidfVectorizer(**params)
        self.vectorizer.vocabulary_ = vocabulary
        self.vectorizer.idf_ = idf
        self.regression = LogisticRegression()
        self.regression.classes_, self.regression.coef_, self.regression.intercept_ = classes, coef, intercept
        self.model_version = str(document["model_version"])
        self.from_name = document.get("from_name")

    def top(self, texts: list[str]) -> list[tuple[str, float]]:
        """The most probable class of each text with its probability."""
        probabilities = self.regression.predict_proba(self.vectorizer.transform(texts))
        best = probabilities.argmax(axis=1)
        return [
            (str(self.regression.classes_[i]), float(row[i]))
            for i, row in zip(best, probabilities, strict=True)
        ]


def _vectorizer_params(params) -> dict:
    """The artifact's vectorizer settings, each checked against `_PARAM_CHECKS`."""
    if not isinstance(params, dict):
        raise InvalidArtifact("vectorizer.params: must be an object")
    for name, value in params.items():
        if name not in _PARAM_CHECKS:
            raise InvalidArtifact(
                f"vectorizer.params.{name}: not a setting an artifact may carry; "
                f"allowed: {', '.join(_PARAM_CHECKS)}"
            )
        is_valid, expected = _PARAM_CHECKS[name]
        if not is_valid(value):
            raise InvalidArtifact(f"vectorizer.params.{name}: must be {expected}, got {json.dumps(value)}")
    checked = dict(params)
    if "ngram_range" in checked:
        checked["ngram_range"] = tuple(checked["ngram_range"])
    return checked


def load_classifier(directory: str | Path) -> Classifier | None:
    return artifacts.load(Path(directory) / ARTIFACT_NAME, Classifier)


# -- the model ---------------------------------------------------------------------------------------


class TextClassifier(LabelStudioMLBase):
    @classmethod
    def check_ready(cls) -> None:
        load_classifier(model_dir())  # an artifact that does not load is not a model that can serve

    def setup(self) -> None:
        classifier = load_classifier(self.model_dir)
        self.set("model_version", classifier.model_version if classifier else UNTRAINED_VERSION)

    def _control(self) -> tuple[str, str, str] | None:
        try:
            return self.get_first_tag_occurence("Choices", "Text")
        except ValueError:
            return None

    def predict(self, tasks: list[dict], context: dict | None = None, **kwargs) -> ModelResponse:
        classifier, control = load_classifier(self.model_dir), self._control()
        if classifier is None or control is None:
            return ModelResponse(model_version=self.model_version, predictions=[])
        from_name, to_name, text_key = control
        allowed = set(self.parsed_label_config[from_name]["labels"])
        texts: list[Any] = [(task.get("data") or {}).get(text_key) for task in tasks]
        readable = [i for i, text in enumerate(texts) if isinstance(text, str)]
        tops = (
            dict(zip(readable, classifier.top([texts[i] for i in readable]), strict=True)) if readable else {}
        )
        predictions = []
        for i in range(len(tasks)):
            label, score = tops.get(i, (None, None))
            if label is None or (allowed and label not in allowed):
                # No text to read, or a class this config no longer offers: no claim at all.
                predictions.append(
                    PredictionValue(model_version=classifier.model_version, score=None, result=[])
                )
                continue
            region = {
                "from_name": from_name,
                "to_name": to_name,
                "type": "choices",
                "value": {"choices": [label]},
                "score": score,
            }
            predictions.append(
                PredictionValue(model_version=classifier.model_version, score=score, result=[region])
            )
        return ModelResponse(model_version=classifier.model_version, predictions=predictions)

    def fit(self, event: str, data: dict, **kwargs) -> dict:
        control = self._control()
        if control is None:
            return {"trained": False, "reason": "the label config has no <Choices> on a <Text>"}
        from_name, to_name, text_key = control
        with _examples_lock:
            examples = _merge_examples(Path(self.model_dir) / EXAMPLES_NAME, event, data, from_name, text_key)
            try:
                document = train(list(examples.values()), from_name=from_name, to_name=to_name)
            except NotEnoughData as exc:
                return {"trained": False, "reason": str(exc), "examples": len(examples)}
            artifacts.write_json(Path(self.model_dir) / ARTIFACT_NAME, document)
        self.set("model_version", document["model_version"])
        result = {"trained": True, "model_version": document["model_version"], "examples": len(examples)}
        if event == "START_TRAINING":  # a training run, whose metrics the platform records
            result.update(held_out_metrics(list(examples.values())))
        return result


def split(examples: list[Example], fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """A held-out share of `examples` (at least one per class), stratified when every class has two."""
    from sklearn.model_selection import train_test_split  # see train() for why here

    labels = [example.label for example in examples]
    stratify = labels if min(labels.count(label) for label in set(labels)) >= 2 else None
    held_out = max(len(set(labels)) if stratify else 1, round(len(examples) * fraction))
    try:
        return train_test_split(examples, test_size=held_out, random_state=seed, stratify=stratify)
    except ValueError:
        return train_test_split(examples, test_size=held_out, random_state=seed)


def accuracy(document: dict, examples: list[Example]) -> float:
    """The share of `examples` the artifact `document` labels right."""
    predicted = Classifier(document).top([example.text for example in examples])
    return sum(label == example.label for (label, _), example in zip(predicted, examples, strict=True)) / len(
        examples
    )


def held_out_metrics(examples: list[Example]) -> dict:
    """The held-out accuracy of a model trained as the served one is, on the rest: the training job's
    split (stratified, seeded) and metric names (`ml_endpoints.train`). Nothing for too few examples."""
    if len(examples) < MIN_HELD_OUT_EXAMPLES:
        return {}
    training, validation = split(examples, HELD_OUT_FRACTION, 0)
    try:
        document = train(training)
    except NotEnoughData:  # the split left one class only
        return {}
    return {
        "validation:accuracy": accuracy(document, validation),
        "train:examples": len(training),
        "validation:examples": len(validation),
    }


def _merge_examples(path: Path, event: str, data: dict, from_name: str, text_key: str) -> dict[str, Example]:
    """The stored examples updated with what `data` carries (one event, or a list of tasks)."""
    stored = artifacts.read_json(path) or {}
    examples = {
        key: Example(key, item["text"], item["label"]) for key, item in stored.get("examples", {}).items()
    }
    task = data.get("task") if isinstance(data.get("task"), dict) else None
    if task is not None and event == "ANNOTATION_DELETED":
        examples.pop(str(task.get("id")), None)
    elif task is not None and isinstance(data.get("annotation"), dict):
        example = example_from_task(task, [data["annotation"]], from_name, text_key)
        if example:
            examples[example.key] = example
        elif event == "ANNOTATION_UPDATED":  # changed into a skip or an answer without our choice
            examples.pop(str(task.get("id")), None)
    for key in ("annotations", "tasks"):  # the legacy `/train` body, or tasks handed to fit directly
        if isinstance(data.get(key), list):
            examples.update((e.key, e) for e in examples_from_tasks(data[key], from_name, text_key))
    if len(examples) > MAX_EXAMPLES:
        examples = dict(list(examples.items())[-MAX_EXAMPLES:])
    artifacts.write_json(
        path, {"examples": {key: {"text": e.text, "label": e.label} for key, e in examples.items()}}
    )
    return examples
