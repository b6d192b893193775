"""The base class and the built-in models, in-process."""

from __future__ import annotations

import itertools
import json
import math
import os
import time

import numpy as np
import pytest

from ml_endpoints import artifacts
from ml_endpoints.model import LabelStudioMLBase, ModelResponse
from ml_endpoints.models.span_tagger import RULES_NAME, SpanTagger
from ml_endpoints.models.text_classifier import (
    ARTIFACT_NAME,
    UNTRAINED_VERSION,
    Classifier,
    InvalidArtifact,
    TextClassifier,
    examples_from_tasks,
    train,
)
from tests.ml_endpoints.support import NER_CONFIG, SENTIMENT_CONFIG, choices_annotation, export_tasks, reviews


def test_parsed_label_config_has_label_studios_structure(model_dir):
    config = """<View><Text name="text" value="$text"/>
      <Choices name="sentiment" toName="text">
        <Choice value="Positive"/><Choice value="Negative" alias="NEG"/>
      </Choices>
      <Labels name="ner" toName="text"><Label value="ORG"/></Labels></View>"""
    model = LabelStudioMLBase(project_id="14", label_config=config)
    # label-studio-sdk's parse_config output for this config (reference section 2.2).
    assert model.parsed_label_config == {
        "sentiment": {
            "type": "Choices",
            "to_name": ["text"],
            "inputs": [{"type": "Text", "valueType": None, "value": "text"}],
            "labels": ["Positive", "NEG"],
            "labels_attrs": {"Positive": {"value": "Positive"}, "NEG": {"value": "Negative", "alias": "NEG"}},
        },
        "ner": {
            "type": "Labels",
            "to_name": ["text"],
            "inputs": [{"type": "Text", "valueType": None, "value": "text"}],
            "labels": ["ORG"],
            "labels_attrs": {"ORG": {"value": "ORG"}},
        },
    }
    assert model.get_first_tag_occurence("Labels", "Text") == ("ner", "text", "text")
    # A later instance of the same project without a config (e.g. SageMaker's /ping) finds the last one.
    assert LabelStudioMLBase(project_id="14").parsed_label_config == model.parsed_label_config
    assert LabelStudioMLBase(project_id="15").parsed_label_config == {}


def test_state_and_model_version_follow_label_studios_sdk(model_dir):
    class Versioned(LabelStudioMLBase):
        def setup(self):
            if self.get("model_version") == "0.0.1":
                self.set("model_version", "mine-v1")

    model = Versioned(project_id="3", label_config=SENTIMENT_CONFIG)
    assert model.model_version == "mine-v1"
    assert LabelStudioMLBase(project_id="4").model_version == "0.0.1"  # the SDK's initial version
    model.set("counter", "7")
    assert Versioned(project_id="3").get("counter") == "7"  # survives the instance, as the SDK's cache
    assert Versioned(project_id="4").get("counter") is None  # keyed by project
    with pytest.raises(ValueError, match="strings"):
        model.set("counter", 8)
    model.set_extra_params('{"threshold": 0.5}')
    assert Versioned(project_id="3").extra_params == {"threshold": 0.5}
    assert (model_dir / "cache.db").exists()


def test_model_response_gets_the_models_version():
    response = ModelResponse(model_version="v9", predictions=[{"result": [], "score": 0.2}])
    response.update_predictions_version()
    assert response.predictions[0].model_version == "v9"


def test_untrained_classifier_makes_no_claims(model_dir):
    model = TextClassifier(project_id="1", label_config=SENTIMENT_CONFIG)
    assert model.model_version == UNTRAINED_VERSION
    assert model.predict([{"id": 1, "data": {"text": "great phone"}}]).predictions == []
    result = model.fit("START_TRAINING", {"project": {"id": 1}})
    assert result["trained"] is False and "two classes" in result["reason"]
    assert not (model_dir / ARTIFACT_NAME).exists()


def test_classifier_learns_sentiment_well_above_chance(model_dir):
    data = reviews(60)
    model = TextClassifier(project_id="1", label_config=SENTIMENT_CONFIG)
    fitted = model.fit("START_TRAINING", {"project": {"id": 1}, "tasks": export_tasks(data[:45])})
    assert fitted == {
        "trained": True,
        "model_version": fitted["model_version"],
        "examples": 45,
        # A training run also reports how a model trained on 36 of them does on the other 9.
        "validation:accuracy": fitted["validation:accuracy"],
        "train:examples": 36,
        "validation:examples": 9,
    }
    assert fitted["validation:accuracy"] >= 7 / 9
    held_out = export_tasks(data[45:], first_id=100)
    response = TextClassifier(project_id="1", label_config=SENTIMENT_CONFIG).predict(held_out)
    assert len(response.predictions) == 15
    predicted = [p.result[0]["value"]["choices"][0] for p in response.predictions]
    accuracy = sum(label == want for label, (_, want) in zip(predicted, data[45:], strict=True)) / 15
    assert accuracy >= 0.8  # chance is 0.5
    for prediction in response.predictions:
        assert prediction.model_version == fitted["model_version"]
        assert 0.5 <= prediction.score <= 1.0  # the top class of two
        assert prediction.result[0]["from_name"] == "sentiment" and prediction.result[0]["type"] == "choices"


def test_scores_are_the_regressions_probabilities_recomputed_from_the_json(model_dir):
    data = reviews(40)
    document = train(examples_from_tasks(export_tasks(data), "sentiment", "text"), from_name="sentiment")
    artifacts.write_json(model_dir / ARTIFACT_NAME, document)
    stored = json.loads((model_dir / ARTIFACT_NAME).read_text())  # plain JSON, nothing executable
    assert set(stored) >= {"vectorizer", "logistic_regression", "model_version"}
    assert b"\x80" not in (model_dir / ARTIFACT_NAME).read_bytes()  # no pickle protocol header anywhere

    text = "really love this excellent screen"
    prediction = (
        TextClassifier(project_id="1", label_config=SENTIMENT_CONFIG)
        .predict([{"id": 1, "data": {"text": text}}])
        .predictions[0]
    )
    # By hand from the JSON numbers: tf-idf (sublinear tf, l2 norm) of unigrams and bigrams, then a sigmoid.
    vocabulary, idf = stored["vectorizer"]["vocabulary"], np.array(stored["vectorizer"]["idf"])
    tokens = text.split()
    grams = tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]
    x = np.zeros(len(idf))
    for gram in grams:
        if gram in vocabulary:
            x[vocabulary[gram]] += 1
    x = np.where(x > 0, 1 + np.log(np.where(x > 0, x, 1)), 0) * idf
    x /= np.linalg.norm(x)
    weights = stored["logistic_regression"]
    logit = float(x @ np.array(weights["coef"][0]) + weights["intercept"][0])
    positive = 1 / (1 + math.exp(-logit))
    classes = weights["classes"]
    expected = max((positive, classes[1]), (1 - positive, classes[0]))
    assert prediction.result[0]["value"]["choices"] == [expected[1]] == ["Positive"]
    assert prediction.score == pytest.approx(expected[0], rel=1e-9)


def test_tampered_artifact_is_refused_not_executed(model_dir):
    document = train(examples_from_tasks(export_tasks(reviews(20)), None, "text"))
    document["logistic_regression"]["coef"] = [[1.0, 2.0]]
    with pytest.raises(InvalidArtifact, match="shapes"):
        Classifier(document)
    with pytest.raises(InvalidArtifact):
        Classifier({"format": "pickle", "payload": "gASV..."})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("input", "filename", "vectorizer.params.input: not a setting an artifact may carry"),
        ("analyzer", "char", "vectorizer.params.analyzer: not a setting"),
        ("dtype", "float32", "vectorizer.params.dtype: not a setting"),
        ("lowercase", "yes", 'vectorizer.params.lowercase: must be true or false, got "yes"'),
        (
            "ngram_range",
            [1, 50],
            "vectorizer.params.ngram_range: must be [min, max] with 1 <= min <= max <= 3",
        ),
        ("ngram_range", [2, 1], "vectorizer.params.ngram_range: must be [min, max]"),
        ("norm", "l3", 'vectorizer.params.norm: must be "l1", "l2" or null, got "l3"'),
        ("token_pattern", "(a+)+$", 'vectorizer.params.token_pattern: must be "(?u)\\\\b\\\\w+\\\\b" or'),
    ],
)
def test_an_artifact_vectorizer_setting_outside_the_allow_list_is_refused(name, value, message):
    document = train(examples_from_tasks(export_tasks(reviews(20)), None, "text"))
    document["vectorizer"]["params"][name] = value
    with pytest.raises(InvalidArtifact) as refused:
        Classifier(document)
    assert str(refused.value).startswith(message), str(refused.value)


def test_each_training_is_a_new_version_and_a_new_artifact_is_picked_up(model_dir):
    data = reviews(30)
    model = TextClassifier(project_id="1", label_config=SENTIMENT_CONFIG)
    first = model.fit("START_TRAINING", {"tasks": export_tasks(data[:20])})["model_version"]
    time.sleep(1.1)  # versions carry the training time in seconds
    second = model.fit("START_TRAINING", {"tasks": export_tasks(data[20:], first_id=50)})["model_version"]
    assert first != second
    # A new file written by someone else (a training job) replaces the loaded one at the next request.
    replacement = train(examples_from_tasks(export_tasks(data[:10]), None, "text"))
    replacement["model_version"] = "from-a-training-job"
    artifacts.write_json(model_dir / ARTIFACT_NAME, replacement)
    fresh = TextClassifier(project_id="1", label_config=SENTIMENT_CONFIG)
    assert fresh.model_version == "from-a-training-job"
    assert fresh.predict([{"data": {"text": "great"}}]).predictions[0].model_version == "from-a-training-job"


def test_classifier_trains_from_webhook_events_one_at_a_time(model_dir):
    project = {"id": 14, "label_config": SENTIMENT_CONFIG}
    model = TextClassifier(project_id="14", label_config=SENTIMENT_CONFIG)
    results = []
    for i, (text, label) in enumerate(reviews(8)):
        event = {
            "annotation": choices_annotation(label, 200 + i),
            "task": {"id": i, "data": {"text": text}},
            "project": project,
        }
        results.append(model.fit("ANNOTATION_CREATED", event))
    assert results[0]["trained"] is False  # one class so far
    assert results[-1]["trained"] is True and results[-1]["examples"] == 8
    assert "validation:accuracy" not in results[-1]  # measured by training runs only
    # A skip replacing an answer removes that example; a re-answer replaces it rather than adding one.
    skipped = {
        "annotation": {"id": 200, "was_cancelled": True, "result": []},
        "task": {"id": 0, "data": {"text": "x"}},
        "project": project,
    }
    assert model.fit("ANNOTATION_UPDATED", skipped)["examples"] == 7
    assert (
        model.fit(
            "ANNOTATION_CREATED",
            {"annotation": choices_annotation("Negative"), "task": {"id": 1, "data": {"text": "bad"}}},
        )["examples"]
        == 7
    )


def test_a_training_runs_held_out_accuracy_measures_what_the_model_cannot_know(model_dir):
    model = TextClassifier(project_id="3", label_config=SENTIMENT_CONFIG)
    # Too few examples for a held-out number: the run trains and says nothing of it.
    few = model.fit("START_TRAINING", {"tasks": export_tasks(reviews(6))})
    assert few["trained"] is True and "validation:accuracy" not in few
    # The same text under both labels (these tasks replace those six): no model can tell them apart, so on
    # a stratified held-out split of two of each it is right exactly half the time.
    tasks = export_tasks([("the same words", "Positive" if i % 2 else "Negative") for i in range(20)])
    fitted = model.fit("START_TRAINING", {"tasks": tasks})
    assert fitted["trained"] is True and fitted["examples"] == 20
    measured = (fitted["validation:accuracy"], fitted["validation:examples"], fitted["train:examples"])
    assert measured == (0.5, 4, 16)


def test_classifier_without_a_choices_control_says_so(model_dir):
    model = TextClassifier(project_id="2", label_config=NER_CONFIG)
    assert model.predict([{"data": {"text": "a"}}]).predictions == []
    assert model.fit("START_TRAINING", {})["trained"] is False


def test_span_tagger_tags_keywords_patterns_and_learns_from_annotations(model_dir):
    artifacts.write_json(
        model_dir / RULES_NAME, {"keywords": {"ORG": ["Acme Corp"]}, "patterns": {"PRODUCT": [r"\bX-\d+\b"]}}
    )
    model = SpanTagger(project_id="5", label_config=NER_CONFIG)
    text = "acme corp ships the X-200; AcmeCorporation does not."
    [prediction] = model.predict([{"id": 1, "data": {"text": text}}]).predictions
    spans = [
        (r["value"]["start"], r["value"]["end"], r["value"]["text"], r["value"]["labels"])
        for r in prediction.result
    ]
    assert spans == [(0, 9, "acme corp", ["ORG"]), (20, 25, "X-200", ["PRODUCT"])]
    assert prediction.score is None  # a keyword match is not a probability
    first_version = model.model_version

    learned = model.fit(
        "ANNOTATION_CREATED",
        {
            "annotation": {
                "result": [
                    {
                        "from_name": "ner",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 0, "end": 6, "text": "Globex", "labels": ["ORG"]},
                    }
                ]
            }
        },
    )
    assert learned["trained"] is True and learned["model_version"] != first_version
    [again] = (
        SpanTagger(project_id="5", label_config=NER_CONFIG)
        .predict([{"data": {"text": "Globex and globex"}}])
        .predictions
    )
    assert [(r["value"]["start"], r["value"]["labels"]) for r in again.result] == [
        (0, ["ORG"]),
        (11, ["ORG"]),
    ]


def test_span_tagger_keywords_from_extra_params_are_literal(model_dir):
    model = SpanTagger(project_id="6", label_config=NER_CONFIG)
    model.set_extra_params(json.dumps({"keywords": {"PRODUCT": ["C++ (v2)"]}, "patterns": {"ORG": [".*"]}}))
    [prediction] = (
        SpanTagger(project_id="6", label_config=NER_CONFIG)
        .predict([{"data": {"text": "we use C++ (v2) daily"}}])
        .predictions
    )
    assert [r["value"]["text"] for r in prediction.result] == ["C++ (v2)"]  # patterns only from the model dir


def test_span_tagger_answers_interactive_context_with_every_occurrence(model_dir):
    text = "Apple sells apples. Apple Inc. is not an apple pie; Apple!"
    context = {
        "annotation_id": None,
        "draft_id": 0,
        "user_id": 7,
        "result": [
            {
                "id": "t1",
                "from_name": "ner",
                "to_name": "text",
                "type": "labels",
                "origin": "manual",
                "value": {"start": 0, "end": 5, "text": "Apple", "labels": ["ORG"]},
            }
        ],
    }
    [prediction] = (
        SpanTagger(project_id="7", label_config=NER_CONFIG)
        .predict([{"id": 3, "data": {"text": text}}], context=context)
        .predictions
    )
    starts = [r["value"]["start"] for r in prediction.result]
    assert starts == [0, 20, 41, 52]  # "apples" is another word; "apple pie" is the same word
    assert all(
        text[s : s + 5].lower() == "apple" and r["value"]["labels"] == ["ORG"]
        for s, r in zip(starts, prediction.result, strict=True)
    )
    # An interactive call with nothing usable selected gets no predictions (Label Studio's convention).
    empty = SpanTagger(project_id="7", label_config=NER_CONFIG).predict(
        [{"data": {"text": text}}], context={"result": []}
    )
    assert empty.predictions == []


def test_model_dir_defaults_to_the_environment(model_dir):
    assert TextClassifier(project_id="1").model_dir == os.environ["MODEL_DIR"]
