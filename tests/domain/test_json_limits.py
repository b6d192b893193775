"""json_limits: JSON from outside is refused, naming the field and the path in it, when it holds what
labelstack cannot store or answer: NaN and Infinity, numbers beyond DynamoDB's, lone surrogates, deep
nesting. And the typed field readers built on it."""

from __future__ import annotations

import json
import time

import pytest

from functions.domain import fields, json_limits
from functions.domain.errors import ValidationFailed
from functions.domain.json_limits import MAX_DEPTH, NotJSON, check_body, check_storable, parse
from functions.domain.project_fields import clean_project_fields, fits


def refusal(call, *args, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as refused:
        call(*args, **kwargs)
    return refused.value.errors


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (b'{"color": NaN}', "color", "NaN"),
        (b'{"a": {"b": [1, Infinity]}}', "a", "at a.b[1]"),
        (b"[1, -Infinity]", "non_field_errors", "at [1]"),
        (b'{"x": 1e400}', "x", "finite"),
        (b'{"x": -1e126}', "x", "1e126"),
        (b'{"x": 2.3e-145}', "x", "1e-130"),
        (b'{"x": 1' + b"0" * 126 + b"}", "x", "1e126"),
        (b'{"t": "\\ud800"}', "t", "surrogate"),
        (b'{"t": "a\\udfff"}', "t", "surrogate"),
        (b'{"t": "\xed\xa0\x80"}', "t", "surrogate"),  # the surrogate's UTF-8 form, which json lets through
        (b'{"\\ud800": 1}', "non_field_errors", "Keys"),
        (b'{"a": {"\\ud800": 1}}', "a", "Keys"),
        (b"[" * 100_000 + b"]" * 100_000, "non_field_errors", "deeper"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "non_field_errors", "deeper"),
        (b'{"a": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}", "a", "deeper"),
        (b'{"n": ' + b"9" * 5000 + b"}", "non_field_errors", "digits"),
        (b"{bad", "non_field_errors", "JSON parse error"),
        (b"\xff\xfe\xfd", "non_field_errors", "JSON parse error"),
    ],
)
def test_parse_refuses_naming_the_field(raw, field, words):
    errors = refusal(parse, raw)
    assert list(errors) == [field]
    assert words in errors[field][0]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"x": 1e125, "y": -1e-130, "z": 0.0, "w": -0}',
        b'{"t": "\\ud83d\\ude00 \xc3\xa9", "k": {"\xe2\x82\xac": null}}',
        b"[" * MAX_DEPTH + b"]" * MAX_DEPTH,
        b'{"a": ' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}",
        b'{"n": ' + b"9" * 125 + b', "b": true}',
        b'"just text"',
    ],
)
def test_parse_takes_what_can_be_stored(raw):
    assert parse(raw) == json.loads(raw)


def test_a_parse_failure_is_told_apart_from_an_unstorable_value():
    with pytest.raises(NotJSON):
        parse(b"{bad")
    with pytest.raises(ValidationFailed) as refused:
        parse(b'{"a": NaN}')
    assert not isinstance(refused.value, NotJSON)


def test_a_named_field_takes_every_problem_of_its_value():
    assert refusal(parse, '{"filters": NaN}', "query") == {
        "query": ["NaN is not a valid JSON number (at filters)."]
    }
    assert "query" in refusal(parse, "[" * 5000, "query")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (float("nan"), "finite"),
        ({"a": [1, {"b": float("inf")}]}, "at a[1].b"),
        ({"k": "\ud800"}, "at k"),
        ([10**200], "1e126"),
        ({"\udc00": 1}, "Keys"),
    ],
)
def test_check_storable_walks_a_parsed_value(value, words):
    errors = refusal(check_storable, value, "extra_params")
    assert list(errors) == ["extra_params"] and words in errors["extra_params"][0]


def test_check_storable_does_not_recurse():
    deep: list = []
    for _ in range(50_000):
        deep = [deep]
    assert "deeper" in refusal(check_storable, deep)["non_field_errors"][0]


def test_check_body_names_the_top_level_key():
    assert list(refusal(check_body, {"ok": 1, "bad": {"x": float("nan")}})) == ["bad"]
    check_body({"title": "p", "n": [1, 2.5, None, True]})


def test_a_large_body_is_checked_quickly():
    tasks = [{"data": {"text": f"text {i}", "n": i, "f": i / 3, "tags": ["a", "b"]}} for i in range(20_000)]
    raw = json.dumps(tasks).encode()
    started = time.perf_counter()
    parse(raw)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("read", "value", "bounds", "expected"),
    [
        (fields.integer, 3, {}, 3),
        (fields.integer, 3.0, {}, 3),
        (fields.number, 2, {}, 2.0),
        (fields.number, "0.5", {"from_text": True}, 0.5),
        (fields.boolean, "false", {}, False),
        (fields.boolean, 1, {}, True),
        (fields.text, "", {"max_length": 3}, ""),
        (fields.mapping, {}, {}, {}),
    ],
)
def test_field_readers_take_their_type(read, value, bounds, expected):
    got = read(value, "f", **bounds)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("read", "value", "bounds", "message"),
    [
        (fields.integer, True, {}, "A valid integer is required."),
        (fields.integer, "1", {}, "A valid integer is required."),
        (fields.integer, 1.5, {}, "A valid integer is required."),
        (fields.integer, float("nan"), {}, "A valid integer is required."),
        (fields.integer, 0, {"minimum": 1}, "Ensure this value is greater than or equal to 1."),
        (fields.integer, 2**31, {}, "Ensure this value is less than or equal to 2147483647."),
        (fields.integer, None, {}, "This field may not be null."),
        (fields.number, float("inf"), {}, "A finite number is required (NaN and Infinity are not numbers)."),
        (fields.number, 1e200, {}, "Ensure this value is less than 1e126 in magnitude."),
        (fields.number, "0.5", {}, "A valid number is required."),
        (
            fields.number,
            "nan",
            {"from_text": True},
            "A finite number is required (NaN and Infinity are not numbers).",
        ),
        (fields.number, "x", {"from_text": True}, "A valid number is required."),
        (fields.number, False, {}, "A valid number is required."),
        (fields.boolean, "maybe", {}, "Must be a valid boolean."),
        (fields.boolean, 2, {}, "Must be a valid boolean."),
        (fields.text, 5, {}, "Not a valid string."),
        (fields.text, "abcd", {"max_length": 3}, "Ensure this field has no more than 3 characters."),
        (fields.mapping, [], {}, 'Expected a dictionary of items but got type "list".'),
    ],
)
def test_field_readers_refuse_other_values_naming_the_field(read, value, bounds, message):
    assert refusal(read, value, "f", **bounds) == {"f": [message]}


def test_project_fields_are_read_by_their_declared_types():
    cleaned = clean_project_fields(
        {"maximum_annotations": 2.0, "show_skip_button": "no", "title": "t", "description": None}
    )
    assert cleaned == {"maximum_annotations": 2, "show_skip_button": False, "title": "t"}
    assert refusal(clean_project_fields, {"sampling": "Random"}) == {
        "sampling": ['"Random" is not a valid choice.']
    }
    assert list(refusal(clean_project_fields, {"maximum_annotations": None})) == ["maximum_annotations"]
    assert fits("maximum_annotations", 3) and not fits("maximum_annotations", True)
    assert not fits("color", float("nan")) and not fits("unknown", 1)


def test_the_number_bounds_are_dynamodbs():
    assert json_limits.number_problem(9.99999999999999e125) is None
    assert json_limits.number_problem(1e-130) is None
    assert json_limits.number_problem(-(10**125)) is None
    assert json_limits.number_problem(10**126) is not None
    assert json_limits.number_problem(9e-131) is not None


def test_check_size_counts_stored_bytes():
    json_limits.check_size({"a": "é" * 10}, "meta", 30)
    assert refusal(json_limits.check_size, {"a": "é" * 20}, "meta", 30) == {
        "meta": ["Too large: 48 bytes as JSON, at most 30."]
    }
