"""What a model may answer: predicted regions use the config's labels, numbers JSON can carry, a shallow
shape, and a score in [0, 1]."""

from __future__ import annotations

import pytest

from functions.domain.label_config import InvalidResult, parse_label_config
from functions.domain.model_answer import (
    MAX_REGION_DEPTH,
    check_model_version,
    check_predicted_result,
    check_score,
)
from tests.domain.test_label_config import IMAGE_BBOX, NER, TEXT_CLASSIFICATION

DYNAMIC = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="topic" toName="text" value="$options"/>
</View>"""


def choice(*labels, **changes):
    return {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": list(labels)},
        **changes,
    }


def test_a_region_with_the_configs_labels_passes():
    config = parse_label_config(TEXT_CLASSIFICATION)
    check_predicted_result([choice("Positive"), choice("Negative", score=0.3)], config)
    check_predicted_result([], config)
    ner = parse_label_config(NER)
    span = {"start": 0, "end": 4, "text": "John", "labels": ["PER"]}
    check_predicted_result([{"from_name": "label", "to_name": "text", "type": "labels", "value": span}], ner)


@pytest.mark.parametrize(
    ("config", "region", "message"),
    [
        (TEXT_CLASSIFICATION, choice("Maybe"), '"Maybe" is not a choice of <Choices name="sentiment">'),
        (TEXT_CLASSIFICATION, choice("Positive", "Maybe"), '"Maybe" is not a choice'),
        (TEXT_CLASSIFICATION, choice(), None),
        (
            IMAGE_BBOX,
            {
                "from_name": "label",
                "to_name": "image",
                "type": "rectanglelabels",
                "value": {"x": 1, "y": 2, "width": 3, "height": 4, "rectanglelabels": ["Truck"]},
            },
            '"Truck" is not a label of <RectangleLabels name="label">',
        ),
        (
            TEXT_CLASSIFICATION,
            {**choice(), "value": {"choices": "Positive"}},
            "value.choices: must be a list of label strings",
        ),
        (TEXT_CLASSIFICATION, choice("Positive", from_name="nope"), '"nope" is not a control tag'),
    ],
)
def test_labels_must_be_the_configs(config, region, message):
    parsed = parse_label_config(config)
    if message is None:
        check_predicted_result([region], parsed)
        return
    with pytest.raises(InvalidResult, match=message):
        check_predicted_result([region], parsed)


def test_dynamic_labels_are_not_checked():
    region = {"from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": ["Any"]}}
    check_predicted_result([region], parse_label_config(DYNAMIC))


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_numbers_json_cannot_carry_are_refused_anywhere(number):
    config = parse_label_config(TEXT_CLASSIFICATION)
    with pytest.raises(InvalidResult, match="not a number JSON can carry"):
        check_predicted_result([choice("Positive", score=number)], config)
    with pytest.raises(InvalidResult, match="not a number JSON can carry"):
        check_predicted_result([{**choice("Positive"), "meta": {"weights": [1.0, number]}}], config)


def test_a_region_nested_too_deep_is_refused_without_recursion():
    config = parse_label_config(TEXT_CLASSIFICATION)
    deep: dict = {"choices": ["Positive"]}
    for _ in range(MAX_REGION_DEPTH):
        deep = {"choices": ["Positive"], "inner": deep}
    with pytest.raises(InvalidResult, match=f"nested more than {MAX_REGION_DEPTH} levels"):
        check_predicted_result([choice(value=deep)], config)
    very_deep: list = []
    for _ in range(100_000):  # far past the recursion limit
        very_deep = [very_deep]
    with pytest.raises(InvalidResult, match="nested"):
        check_predicted_result([{**choice("Positive"), "meta": very_deep}], config)


@pytest.mark.parametrize(("score", "expected"), [(None, None), (0, 0.0), (1, 1.0), (0.25, 0.25)])
def test_scores_in_range(score, expected):
    assert check_score(score) == expected


@pytest.mark.parametrize("score", [float("nan"), float("inf"), -0.1, 1.5, 1e300, True, "0.5", [0.5]])
def test_scores_out_of_range_or_not_numbers(score):
    with pytest.raises(InvalidResult, match="score"):
        check_score(score)


def test_model_versions():
    assert check_model_version(None) is None
    assert check_model_version("v1") == "v1"
    assert check_model_version(3) == "3"
    for bad in ("x" * 256, {"v": 1}, True):
        with pytest.raises(InvalidResult, match="model_version"):
            check_model_version(bad)
