"""Label Studio's Data Manager query, parsed and applied to plain rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.domain.errors import ValidationFailed
from functions.domain.task_query import parse_task_query

ROWS = [
    {"id": 1, "total_annotations": 0, "annotators": [], "predictions_score": 0.2, "completed_at": None,
     "created_at": datetime(2024, 1, 1, tzinfo=UTC), "is_labeled": False, "data": {"text": "Apple pie"}},
    {"id": 2, "total_annotations": 2, "annotators": [7, 8], "predictions_score": None,
     "completed_at": datetime(2024, 2, 1, tzinfo=UTC), "created_at": datetime(2024, 1, 2, tzinfo=UTC),
     "is_labeled": True, "data": {"text": "pear", "n": 5}},
]


def select(query) -> list[int]:
    parsed = parse_task_query(query)
    return [r["id"] for r in parsed.sort([r for r in ROWS if parsed.matches(r) and parsed.is_selected(r["id"])])]


def item(column, operator, value, kind="Number"):
    return {"filters": {"conjunction": "and", "items": [
        {"filter": f"filter:tasks:{column}", "operator": operator, "type": kind, "value": value}]}}


@pytest.mark.parametrize(("query", "expected"), [
    (item("total_annotations", "greater", 0), [2]),
    (item("total_annotations", "less_or_equal", 0), [1]),
    (item("total_annotations", "not_equal", 2), [1]),
    (item("predictions_score", "in", {"min": 0.1, "max": 0.2}), [1]),
    (item("predictions_score", "empty", True), [2]),
    (item("annotators", "contains", 7, "List"), [2]),
    (item("annotators", "not_contains", 7, "List"), [1]),
    (item("completed_at", "empty", False, "Datetime"), [2]),
    (item("created_at", "greater", "2024-01-01T12:00:00.000Z", "Datetime"), [2]),
    (item("data.text", "contains", "apple", "String"), [1]),
    (item("data.text", "equal", "PEAR", "String"), [2]),
    (item("data.text", "regex", "^p", "String"), [2]),
    (item("data.n", "greater", 3), [2]),
    (item("is_labeled", "equal", True, "Boolean"), [2]),
    ({"ordering": ["-tasks:id"]}, [2, 1]),
    ({"ordering": ["tasks:predictions_score"]}, [1, 2]),
    ({"ordering": ["-tasks:predictions_score"]}, [2, 1]),  # missing values first when descending
    ({"selectedItems": {"all": False, "included": [2]}}, [2]),
    ({"selectedItems": {"all": True, "excluded": [2]}}, [1]),
    ({"filters": {"conjunction": "or", "items": [
        {"filter": "filter:tasks:id", "operator": "equal", "type": "Number", "value": 1},
        {"filter": "filter:tasks:id", "operator": "equal", "type": "Number", "value": 2}]}}, [1, 2]),
])
def test_filters_ordering_and_selection(query, expected):
    assert select(query) == expected


def test_the_sdk_queries_parse():
    default = parse_task_query('{"filters":null,"ordering":[],"selectedItems":{"all":true,"excluded":[]}}')
    assert default.is_default and parse_task_query(None).is_default
    labeled = parse_task_query({"filters": {"conjunction": "and", "items": [
        {"filter": "filter:tasks:completed_at", "operator": "empty", "value": False, "type": "Datetime"}]}})
    assert not labeled.is_default and [r["id"] for r in ROWS if labeled.matches(r)] == [2]
    assert parse_task_query({"selectedItems": {"all": False, "included": [3, 1]}}).explicit_ids() == [1, 3]


@pytest.mark.parametrize(("query", "part"), [
    ("{nope", "not valid JSON"),
    (item("total_annotations", "bigger", 1), "filters.items[0].operator"),
    (item("nonsense", "equal", 1), "filters.items[0].filter"),
    (item("total_annotations", "equal", "two"), "filters.items[0].value"),
    (item("predictions_score", "in", 0.5), "filters.items[0].value"),
    (item("created_at", "greater", "yesterday", "Datetime"), "filters.items[0].value"),
    (item("data.text", "regex", "(", "String"), "invalid regular expression"),
    ({"ordering": ["tasks:nope"]}, "ordering[0]"),
    ({"selectedItems": {"all": False, "included": ["x"]}}, "selectedItems.included"),
])
def test_bad_queries_name_the_bad_part(query, part):
    with pytest.raises(ValidationFailed) as caught:
        parse_task_query(query)
    assert part in caught.value.errors["query"][0]
