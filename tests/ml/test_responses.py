"""An ML backend's answer is read as strictly as a request body: JSON labelstack cannot store (deep
nesting, NaN, numbers beyond DynamoDB's, lone surrogates) and scores it cannot keep are the backend's
error, never an exception of ours."""

from __future__ import annotations

import json

import pytest

from functions.domain.label_config import parse_label_config
from functions.ml.responses import BackendError, parse_json, parse_predictions, results_of
from tests.api.test_projects import TEXT_CONFIG

REGION = {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "deeper"),
        (b'{"results": [{"result": [], "score": NaN}]}', "NaN"),
        (b'{"results": [{"result": [], "score": 1e999}]}', "finite"),
        (b'{"results": [], "model_version": "\\ud800"}', "surrogate"),
        (b'{"results": [1' + b"0" * 5000 + b"]}", "digits"),
        (b"<html>busy</html>", "not JSON"),
    ],
)
def test_an_answer_that_cannot_be_kept_is_the_backends_error(body, words):
    with pytest.raises(BackendError) as failed:
        parse_json(body, "the answer to /predict")
    assert str(failed.value).startswith("the answer to /predict") and words in str(failed.value)


@pytest.mark.parametrize(
    ("score", "words"),
    [
        (1e200, "between 0 and 1"),
        (2.3e-145, "1e-130"),  # within 0..1, but DynamoDB cannot store it
        (10**130, "between 0 and 1"),
        ("0.5", "must be a number"),
        (True, "number"),
    ],
)
def test_a_score_dynamodb_cannot_store_fails_the_batch(score, words):
    config = parse_label_config(TEXT_CONFIG)
    answer = {"results": [{"result": [REGION], "score": 0.5}, {"result": [REGION], "score": score}]}
    with pytest.raises(BackendError) as failed:
        parse_predictions(results_of(answer), 2, config)
    assert "results[1]" in str(failed.value) and words in str(failed.value)


def test_a_model_version_is_bounded():
    config = parse_label_config(TEXT_CONFIG)
    with pytest.raises(BackendError, match="model_version"):
        parse_predictions([{"result": [REGION], "model_version": "v" * 256}], 1, config)


def test_a_good_answer_reads():
    config = parse_label_config(TEXT_CONFIG)
    answer = parse_json(
        json.dumps({"results": [{"result": [REGION], "score": 0.75, "model_version": ""}]}).encode(), "x"
    )
    [[draft]] = parse_predictions(results_of(answer), 1, config)
    assert draft.score == 0.75 and draft.model_version == ""
