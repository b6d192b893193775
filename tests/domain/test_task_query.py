"""Label Studio's Data Manager query: parsing, validation, filters, ordering and selection on task rows."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from functions.domain.errors import ValidationFailed
from functions.domain.task_query import Selection, TaskQuery, parse_task_query

JAN = datetime(2024, 1, 1, tzinfo=UTC)
FEB = datetime(2024, 2, 1, tzinfo=UTC)
MAR = datetime(2024, 3, 1, tzinfo=UTC)


def row(**columns) -> dict:
    base = {
        "id": 1,
        "inner_id": 1,
        "total_annotations": 0,
        "cancelled_annotations": 0,
        "total_predictions": 0,
        "annotators": [],
        "predictions_score": None,
        "completed_at": None,
        "created_at": JAN,
        "updated_at": JAN,
        "is_labeled": False,
        "data": {},
    }
    return base | columns


def item(column: str, operator: str, value, type_: str = "Number") -> dict:
    return {"filter": f"filter:tasks:{column}", "operator": operator, "type": type_, "value": value}


def query(*items: dict, conjunction: str = "and") -> TaskQuery:
    return parse_task_query({"filters": {"conjunction": conjunction, "items": list(items)}})


def matches(filter_item: dict, **columns) -> bool:
    return query(filter_item).matches(row(**columns))


def error(raw) -> str:
    with pytest.raises(ValidationFailed) as caught:
        parse_task_query(raw)
    assert list(caught.value.errors) == ["query"]
    [message] = caught.value.errors["query"]
    return message


def error_of(filter_item: dict) -> str:
    return error({"filters": {"conjunction": "and", "items": [filter_item]}})


# --- parsing -----------------------------------------------------------------------------------------------


def test_none_and_empty_text_are_the_default_query():
    for raw in (None, "", "  ", {}):
        parsed = parse_task_query(raw)
        assert parsed == TaskQuery()
        assert parsed.is_default


def test_legacy_sdk_default_query():
    parsed = parse_task_query('{"filters":null,"ordering":[],"selectedItems":{"all":true,"excluded":[]}}')
    assert parsed.is_default
    assert parsed.filters == () and parsed.ordering == () and parsed.selected == Selection()


def test_legacy_sdk_labeled_tasks_filter():
    filters = {
        "conjunction": "and",
        "items": [
            {"filter": "filter:tasks:completed_at", "operator": "empty", "value": False, "type": "Datetime"}
        ],
    }
    parsed = parse_task_query(
        json.dumps({"filters": filters, "ordering": [], "selectedItems": {"all": True, "excluded": []}})
    )
    assert not parsed.is_default
    assert parsed.matches(row(completed_at=JAN))
    assert not parsed.matches(row(completed_at=None))


def test_json_string_and_dict_parse_the_same():
    raw = {
        "filters": {"conjunction": "or", "items": [item("id", "greater", 3)]},
        "ordering": ["-tasks:id"],
        "selectedItems": {"all": False, "included": [4, 5]},
    }
    assert parse_task_query(json.dumps(raw)) == parse_task_query(raw)


def test_url_encoded_query_text_is_unquoted_like_ls():
    raw = {"filters": {"conjunction": "and", "items": [item("data.text", "contains", "a b%", "String")]}}
    assert parse_task_query(quote(json.dumps(raw))) == parse_task_query(raw)


def test_other_top_level_keys_are_ignored():
    assert parse_task_query({"project": 1, "data": {"x": 1}}).is_default


def test_type_may_be_left_out_for_a_built_in_column():
    parsed = parse_task_query(
        {
            "filters": {
                "conjunction": "and",
                "items": [{"filter": "filter:tasks:total_annotations", "operator": "greater", "value": 0}],
            }
        }
    )
    assert parsed.matches(row(total_annotations=1))
    assert not parsed.matches(row(total_annotations=0))


def test_a_built_in_column_keeps_its_kind_whatever_type_is_declared():
    assert matches(item("completed_at", "empty", False, "Boolean"), completed_at=JAN)


def test_filters_with_no_items_is_no_filter():
    parsed = parse_task_query({"filters": {"conjunction": "or", "items": []}})
    assert parsed.is_default
    assert parsed.matches(row())


def test_is_default_needs_no_filter_no_ordering_and_every_task():
    assert not parse_task_query({"ordering": ["tasks:id"]}).is_default
    assert not parse_task_query({"selectedItems": {"all": True, "excluded": [1]}}).is_default
    assert not parse_task_query({"selectedItems": {"all": False, "included": [1]}}).is_default
    assert not query(item("id", "greater", 0)).is_default


# --- Number ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("equal", 2, [False, True, False]),
        ("not_equal", 2, [True, False, True]),
        ("less", 2, [True, False, False]),
        ("greater", 2, [False, False, True]),
        ("less_or_equal", 2, [True, True, False]),
        ("greater_or_equal", 2, [False, True, True]),
        ("in", {"min": 1, "max": 2}, [True, True, False]),  # both bounds inclusive
        ("not_in", {"min": 2, "max": 3}, [True, False, False]),
    ],
)
def test_number_operators(operator, value, expected):
    parsed = query(item("total_annotations", operator, value))
    assert [parsed.matches(row(total_annotations=n)) for n in (1, 2, 3)] == expected


def test_number_filters_compare_ints_and_floats():
    assert matches(item("predictions_score", "equal", 0.5), predictions_score=0.5)
    assert matches(item("id", "equal", 7.0), id=7)
    assert matches(item("predictions_score", "in", {"min": 0.2, "max": 0.6}), predictions_score=0.6)
    assert not matches(item("predictions_score", "in", {"min": 0.2, "max": 0.6}), predictions_score=0.61)


@pytest.mark.parametrize(
    ("operator", "value"),
    [
        ("equal", 0.5),
        ("not_equal", 0.5),
        ("less", 1),
        ("greater", 0),
        ("less_or_equal", 1),
        ("greater_or_equal", 0),
        ("in", {"min": 0, "max": 1}),
        ("not_in", {"min": 0, "max": 1}),
    ],
)
def test_a_missing_number_matches_no_comparison_even_negated(operator, value):
    # SQL NULL, as in LS: tasks without predictions have no score to compare.
    assert not matches(item("predictions_score", operator, value), predictions_score=None)


def test_empty_number_is_null():
    assert matches(item("predictions_score", "empty", True), predictions_score=None)
    assert not matches(item("predictions_score", "empty", True), predictions_score=0.0)
    assert matches(item("predictions_score", "empty", False), predictions_score=0.0)
    assert not matches(item("predictions_score", "empty", False), predictions_score=None)


@pytest.mark.parametrize("column", ["total_annotations", "cancelled_annotations", "total_predictions"])
def test_empty_counter_means_zero(column):
    assert matches(item(column, "empty", True), **{column: 0})
    assert not matches(item(column, "empty", True), **{column: 2})
    assert matches(item(column, "empty", False), **{column: 2})
    assert not matches(item(column, "empty", False), **{column: 0})


def test_in_list_on_ids():
    assert matches(item("id", "in_list", [1, 3]), id=3)
    assert not matches(item("id", "in_list", [1, 3]), id=2)
    assert matches(item("inner_id", "not_in_list", [1, 3]), inner_id=2)
    assert not matches(item("inner_id", "not_in_list", [1, 3]), inner_id=1)


# --- Datetime ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("equal", "2024-02-01T00:00:00.000Z", [False, True, False]),
        ("not_equal", "2024-02-01T00:00:00.000Z", [True, False, True]),
        ("less", "2024-02-01T00:00:00.000Z", [True, False, False]),
        ("greater", "2024-02-01T00:00:00.000Z", [False, False, True]),
        ("less_or_equal", "2024-02-01T00:00:00.000Z", [True, True, False]),
        ("greater_or_equal", "2024-02-01T00:00:00Z", [False, True, True]),
        ("in", {"min": "2024-01-01T00:00:00.000Z", "max": "2024-02-01T00:00:00.000Z"}, [True, True, False]),
        (
            "not_in",
            {"min": "2024-01-15T00:00:00.000Z", "max": "2024-02-15T00:00:00.000Z"},
            [True, False, True],
        ),
    ],
)
def test_datetime_operators(operator, value, expected):
    parsed = query(item("completed_at", operator, value, "Datetime"))
    assert [parsed.matches(row(completed_at=moment)) for moment in (JAN, FEB, MAR)] == expected


def test_datetime_offsets_and_naive_rows_compare_as_utc():
    assert matches(item("created_at", "equal", "2024-02-01T01:00:00+01:00", "Datetime"), created_at=FEB)
    assert matches(
        item("updated_at", "equal", "2024-02-01T00:00:00.000Z", "Datetime"), updated_at=datetime(2024, 2, 1)
    )
    assert matches(item("updated_at", "equal", "2024-02-01T00:00:00", "Datetime"), updated_at=FEB)


def test_datetime_null_matches_only_empty():
    for operator in ("less", "greater", "not_equal"):
        assert not matches(item("completed_at", operator, "2024-02-01T00:00:00.000Z", "Datetime"))
    assert not matches(
        item(
            "completed_at",
            "not_in",
            {"min": "2024-01-01T00:00:00Z", "max": "2024-01-02T00:00:00Z"},
            "Datetime",
        )
    )
    assert matches(item("completed_at", "empty", True, "Datetime"), completed_at=None)
    assert not matches(item("completed_at", "empty", True, "Datetime"), completed_at=JAN)


# --- Boolean -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["is_labeled"])
def test_boolean_operators(column):
    assert matches(item(column, "equal", True, "Boolean"), **{column: True})
    assert not matches(item(column, "equal", True, "Boolean"), **{column: False})
    assert matches(item(column, "not_equal", True, "Boolean"), **{column: False})
    assert matches(item(column, "empty", False, "Boolean"), **{column: False})
    assert not matches(item(column, "empty", True, "Boolean"), **{column: False})


def test_boolean_column_missing_from_the_row_matches_nothing_but_empty():
    bare = row()
    del bare["is_labeled"]
    assert not query(item("is_labeled", "equal", False, "Boolean")).matches(bare)
    assert not query(item("is_labeled", "not_equal", True, "Boolean")).matches(bare)
    assert query(item("is_labeled", "empty", True, "Boolean")).matches(bare)


# --- List (annotators) -------------------------------------------------------------------------------------


def test_annotators_contains_a_user_id():
    assert matches(item("annotators", "contains", 7, "List"), annotators=[3, 7])
    assert not matches(item("annotators", "contains", 7, "List"), annotators=[3])
    assert not matches(item("annotators", "not_contains", 7, "List"), annotators=[3, 7])
    assert matches(item("annotators", "not_contains", 7, "List"), annotators=[3])
    assert matches(item("annotators", "not_contains", 7, "List"), annotators=[])


def test_annotators_multi_select_means_any_of():
    assert matches(item("annotators", "contains", [1, 7], "List"), annotators=[7])
    assert not matches(item("annotators", "contains", [1, 7], "List"), annotators=[3])
    assert not matches(item("annotators", "not_contains", [1, 7], "List"), annotators=[7])
    assert matches(item("annotators", "not_contains", [1, 7], "List"), annotators=[3])


def test_empty_annotators_is_no_annotator():
    assert matches(item("annotators", "empty", True, "List"), annotators=[])
    assert matches(item("annotators", "empty", True, "List"), annotators=None)
    assert not matches(item("annotators", "empty", True, "List"), annotators=[1])
    assert matches(item("annotators", "empty", False, "List"), annotators=[1])


# --- data.<key> as String ----------------------------------------------------------------------------------


def test_string_equal_is_exact_and_case_sensitive():
    assert matches(item("data.text", "equal", "Apple", "String"), data={"text": "Apple"})
    assert not matches(item("data.text", "equal", "apple", "String"), data={"text": "Apple"})
    assert not matches(item("data.n", "equal", "5", "String"), data={"n": 5})  # JSON equality, as LS
    assert matches(item("data.text", "not_equal", "apple", "String"), data={"text": "Apple"})
    assert not matches(item("data.text", "not_equal", "Apple", "String"), data={"text": "Apple"})


def test_string_contains_is_case_insensitive():
    assert matches(item("data.text", "contains", "APPLE", "String"), data={"text": "an apple pie"})
    assert not matches(item("data.text", "contains", "pear", "String"), data={"text": "an apple pie"})
    assert matches(item("data.text", "not_contains", "pear", "String"), data={"text": "an apple pie"})
    assert not matches(item("data.text", "not_contains", "Apple", "String"), data={"text": "an apple pie"})


def test_string_contains_reads_non_text_values_as_json_text():
    assert matches(item("data.n", "contains", "12", "Unknown"), data={"n": 123})
    assert matches(item("data.meta", "contains", '"lang": "en"', "Unknown"), data={"meta": {"lang": "en"}})
    assert matches(item("data.flag", "contains", "TRUE", "Unknown"), data={"flag": True})


def test_string_regex_is_a_case_sensitive_search():
    assert matches(item("data.text", "regex", r"^img_\d+\.png$", "String"), data={"text": "img_12.png"})
    assert matches(item("data.text", "regex", "pp", "String"), data={"text": "apple"})
    assert not matches(item("data.text", "regex", "APP", "String"), data={"text": "apple"})
    assert matches(item("data.n", "regex", "^4", "String"), data={"n": 42})


def test_regex_with_nested_quantifiers_fails_in_linear_time():
    # A backtracking engine needs about 1 s for this pattern on the short text, twice that per character
    # more: the short text comes first so that such an engine fails the test instead of hanging it.
    nested = item("data.text", "regex", "(a+)+$", "String")
    for text in ("a" * 24 + "!", "a" * 10_000 + "!"):
        started = time.perf_counter()
        found = matches(nested, data={"text": text})
        elapsed = time.perf_counter() - started
        assert not found
        assert elapsed < 0.1, f"{elapsed:.2f} s on {len(text)} characters"


def test_regex_reads_text_that_is_not_valid_utf8():
    assert matches(item("data.text", "regex", "b+", "String"), data={"text": "a\ud800bb"})


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"(\w)\1", "invalid regular expression: invalid escape sequence: \\1 (the syntax is RE2's"),
        ("(?=a)b", "invalid regular expression: invalid perl operator: (?= (the syntax is RE2's"),
        ("x" * 1001, "the regular expression is 1001 characters long; the limit is 1000"),
        (".{300}", "the regular expression is too complex"),
    ],
)
def test_regex_that_cannot_match_in_linear_time_is_refused(pattern, expected):
    message = error_of(item("data.text", "regex", pattern, "String"))
    assert message.startswith(f"filters.items[0].value: {expected}")


def test_string_empty_is_null_missing_or_blank():
    empty = item("data.text", "empty", True, "String")
    assert matches(empty, data={"text": ""})
    assert matches(empty, data={"text": None})
    assert matches(empty, data={})
    assert not matches(empty, data={"text": "a"})
    assert matches(item("data.text", "empty", False, "Unknown"), data={"text": "a"})
    assert not matches(item("data.text", "empty", False, "Unknown"), data={"text": ""})


@pytest.mark.parametrize(
    ("operator", "value"),
    [
        ("equal", "a"),
        ("not_equal", "a"),
        ("contains", "a"),
        ("not_contains", "a"),
        ("regex", "a"),
        ("in_list", ["a"]),
        ("not_in_list", ["a"]),
    ],
)
def test_a_missing_data_key_matches_no_comparison_even_negated(operator, value):
    assert not matches(item("data.text", operator, value, "String"), data={"other": "b"})
    assert not matches(item("data.text", operator, value, "String"), data={"text": None})


def test_data_in_list_uses_json_equality():
    assert matches(item("data.label", "in_list", ["cat", "dog"], "String"), data={"label": "dog"})
    assert not matches(item("data.label", "in_list", ["cat", "dog"], "String"), data={"label": "Dog"})
    assert matches(item("data.label", "not_in_list", ["cat", "dog"], "String"), data={"label": "cow"})
    assert not matches(item("data.flag", "in_list", [1], "String"), data={"flag": True})


def test_data_key_may_contain_dots():
    assert matches(item("data.a.b", "equal", "x", "String"), data={"a.b": "x"})


# --- data.<key> as Number, Datetime, Boolean ---------------------------------------------------------------


def test_data_number_reads_numbers_and_numeric_text():
    greater = item("data.score", "greater", 0.5)
    assert matches(greater, data={"score": 0.7})
    assert matches(greater, data={"score": "0.7"})
    assert not matches(greater, data={"score": 0.2})
    assert not matches(greater, data={"score": "high"})
    assert not matches(greater, data={"score": True})
    assert not matches(item("data.score", "not_equal", 1), data={"score": "high"})
    assert matches(item("data.score", "in", {"min": 1, "max": 2}), data={"score": 2})
    assert matches(item("data.score", "in_list", [1, 2]), data={"score": "2"})


def test_data_number_empty_is_missing_or_null():
    assert matches(item("data.score", "empty", True), data={})
    assert matches(item("data.score", "empty", True), data={"score": None})
    assert not matches(item("data.score", "empty", True), data={"score": 0})


def test_data_datetime_reads_iso_text():
    after = item("data.taken", "greater", "2024-01-15T00:00:00.000Z", "Datetime")
    assert matches(after, data={"taken": "2024-02-01T00:00:00Z"})
    assert not matches(after, data={"taken": "2024-01-01T00:00:00Z"})
    assert not matches(after, data={"taken": "yesterday"})


def test_data_boolean_is_json_true_not_one():
    assert matches(item("data.ok", "equal", True, "Boolean"), data={"ok": True})
    assert not matches(item("data.ok", "equal", True, "Boolean"), data={"ok": 1})
    assert matches(item("data.ok", "not_equal", True, "Boolean"), data={"ok": False})


def test_data_filters_on_a_row_without_data():
    bare = row()
    del bare["data"]
    assert not query(item("data.text", "contains", "a", "String")).matches(bare)
    assert query(item("data.text", "empty", True, "String")).matches(bare)


# --- conjunction -------------------------------------------------------------------------------------------


def test_conjunction_and_needs_every_filter():
    parsed = query(item("total_annotations", "greater", 0), item("data.text", "contains", "apple", "String"))
    assert parsed.matches(row(total_annotations=1, data={"text": "apple"}))
    assert not parsed.matches(row(total_annotations=0, data={"text": "apple"}))
    assert not parsed.matches(row(total_annotations=1, data={"text": "pear"}))


def test_conjunction_or_needs_any_filter():
    parsed = query(
        item("total_annotations", "greater", 0),
        item("data.text", "contains", "apple", "String"),
        conjunction="or",
    )
    assert parsed.matches(row(total_annotations=0, data={"text": "apple"}))
    assert parsed.matches(row(total_annotations=1, data={"text": "pear"}))
    assert not parsed.matches(row(total_annotations=0, data={"text": "pear"}))


def test_the_brief_example_query():
    parsed = parse_task_query(
        {
            "filters": {
                "conjunction": "and",
                "items": [
                    item("total_annotations", "greater", 0),
                    item("completed_at", "empty", False, "Datetime"),
                    item("data.text", "contains", "apple", "String"),
                    item("predictions_score", "in", {"min": 0.2, "max": 0.6}),
                ],
            },
            "ordering": ["-tasks:id"],
            "selectedItems": {"all": True, "excluded": [5, 6]},
        }
    )
    good = row(total_annotations=1, completed_at=JAN, data={"text": "Apple"}, predictions_score=0.4)
    assert parsed.matches(good)
    assert not parsed.matches(good | {"predictions_score": None})
    assert parsed.ordering == ("-id",)
    assert parsed.is_selected(4) and not parsed.is_selected(5)


# --- ordering ----------------------------------------------------------------------------------------------


def ids(parsed: TaskQuery, rows: list[dict]) -> list[int]:
    return [r["id"] for r in parsed.sort(rows)]


def test_ordering_is_normalized_to_row_column_names():
    parsed = parse_task_query({"ordering": ["tasks:total_annotations", "-tasks:data.text", "-tasks:id"]})
    assert parsed.ordering == ("total_annotations", "-data.text", "-id")


def test_sort_ascending_and_descending():
    rows = [row(id=1, total_annotations=2), row(id=2, total_annotations=0), row(id=3, total_annotations=1)]
    assert ids(parse_task_query({"ordering": ["tasks:total_annotations"]}), rows) == [2, 3, 1]
    assert ids(parse_task_query({"ordering": ["-tasks:total_annotations"]}), rows) == [1, 3, 2]


def test_sort_on_several_columns():
    rows = [
        row(id=1, total_annotations=1, created_at=JAN),
        row(id=2, total_annotations=2, created_at=JAN),
        row(id=3, total_annotations=1, created_at=MAR),
        row(id=4, total_annotations=2, created_at=FEB),
    ]
    parsed = parse_task_query({"ordering": ["-tasks:total_annotations", "tasks:created_at"]})
    assert ids(parsed, rows) == [2, 4, 1, 3]


def test_ties_fall_back_to_ascending_id():
    rows = [row(id=3), row(id=1), row(id=2)]
    assert ids(parse_task_query({"ordering": ["-tasks:is_labeled"]}), rows) == [1, 2, 3]


def test_none_sorts_last_in_both_directions_like_ls():
    rows = [
        row(id=1, predictions_score=None),
        row(id=2, predictions_score=0.9),
        row(id=3, predictions_score=0.1),
        row(id=4, predictions_score=None),
    ]
    assert ids(parse_task_query({"ordering": ["tasks:predictions_score"]}), rows) == [3, 2, 1, 4]
    assert ids(parse_task_query({"ordering": ["-tasks:predictions_score"]}), rows) == [2, 3, 1, 4]


def test_sort_datetimes_with_nulls_and_naive_values():
    rows = [
        row(id=1, completed_at=None),
        row(id=2, completed_at=datetime(2024, 2, 1)),
        row(id=3, completed_at=JAN),
    ]
    assert ids(parse_task_query({"ordering": ["tasks:completed_at"]}), rows) == [3, 2, 1]
    assert ids(parse_task_query({"ordering": ["-tasks:completed_at"]}), rows) == [2, 3, 1]


def test_sort_on_data_puts_numbers_first_then_text_then_missing():
    rows = [
        row(id=1, data={"v": "b"}),
        row(id=2, data={"v": 10}),
        row(id=3, data={}),
        row(id=4, data={"v": 9}),
        row(id=5, data={"v": "a"}),
        row(id=6, data={"v": None}),
    ]
    assert ids(parse_task_query({"ordering": ["tasks:data.v"]}), rows) == [4, 2, 5, 1, 3, 6]
    assert ids(parse_task_query({"ordering": ["-tasks:data.v"]}), rows) == [1, 5, 2, 4, 3, 6]


def test_sort_with_a_key_to_the_row():
    class Task:
        def __init__(self, task_id, score):
            self.row = row(id=task_id, predictions_score=score)

    tasks = [Task(1, 0.5), Task(2, 0.9), Task(3, None)]
    parsed = parse_task_query({"ordering": ["-tasks:predictions_score"]})
    assert [t.row["id"] for t in parsed.sort(tasks, key=lambda t: t.row)] == [2, 1, 3]


def test_sort_without_ordering_is_by_id():
    assert ids(parse_task_query(None), [row(id=2), row(id=1)]) == [1, 2]


# --- selectedItems -----------------------------------------------------------------------------------------


def test_select_all_but_excluded():
    parsed = parse_task_query({"selectedItems": {"all": True, "excluded": [5, 6]}})
    assert parsed.selected == Selection(all=True, ids=frozenset({5, 6}))
    assert parsed.is_selected(4) and not parsed.is_selected(5)
    assert parsed.explicit_ids() is None


def test_select_only_included():
    parsed = parse_task_query({"selectedItems": {"all": False, "included": [3, 1, 3]}})
    assert parsed.is_selected(1) and parsed.is_selected(3) and not parsed.is_selected(2)
    assert parsed.explicit_ids() == [1, 3]


def test_selection_defaults():
    assert parse_task_query({"selectedItems": {"all": True}}).selected == Selection()
    nothing = parse_task_query({"selectedItems": {"all": False}})
    assert nothing.explicit_ids() == [] and not nothing.is_selected(1)
    assert parse_task_query({"selectedItems": None}).selected == Selection()


def test_selection_reads_only_the_list_that_goes_with_all():
    parsed = parse_task_query({"selectedItems": {"all": True, "excluded": [1], "included": [2]}})
    assert parsed.selected == Selection(all=True, ids=frozenset({1}))


def test_selection_as_json_text_like_ls():
    parsed = parse_task_query({"selectedItems": '{"all": false, "included": [2]}'})
    assert parsed.explicit_ids() == [2]


# --- validation errors -------------------------------------------------------------------------------------


def test_invalid_json():
    assert error("{not json").startswith("not valid JSON")


def test_not_an_object():
    assert error("[1, 2]").startswith("expected a JSON object")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([], "filters: expected an object"),
        ({"items": []}, 'filters.conjunction: expected "and" or "or", got null'),
        ({"conjunction": "xor", "items": []}, 'filters.conjunction: expected "and" or "or", got "xor"'),
        ({"conjunction": "and"}, "filters.items: expected a list, got null"),
        ({"conjunction": "and", "items": ["id"]}, 'filters.items[0]: expected an object, got "id"'),
    ],
)
def test_malformed_filters(filters, expected):
    assert error({"filters": filters}).startswith(expected)


def test_unknown_operator_names_the_item():
    message = error(
        {"filters": {"conjunction": "and", "items": [item("id", "greater", 1), item("id", "bigger", 1)]}}
    )
    assert message == 'filters.items[1].operator: unknown operator "bigger"'


@pytest.mark.parametrize(
    ("filter_item", "expected"),
    [
        (item("colour", "equal", 1), 'filters.items[0].filter: unknown column "filter:tasks:colour"'),
        (
            item("data.", "equal", "a", "String"),
            'filters.items[0].filter: unknown column "filter:tasks:data."',
        ),
        (
            {"filter": "tasks:id", "operator": "equal", "type": "Number", "value": 1},
            'filters.items[0].filter: expected a column like "filter:tasks:id", got "tasks:id"',
        ),
        (
            {"filter": "filter:tasks:data.x", "operator": "equal", "value": 1},
            "filters.items[0].type: unknown type null",
        ),
        (item("id", "bigger", 1, "Integer"), 'filters.items[0].operator: unknown operator "bigger"'),
        (item("id", "equal", 1, "Integer"), 'filters.items[0].type: unknown type "Integer"'),
        (
            item("total_annotations", "contains", 1),
            'filters.items[0].operator: operator "contains" does not apply',
        ),
        (
            item("completed_at", "regex", "x", "Datetime"),
            'filters.items[0].operator: operator "regex" does not',
        ),
        (
            item("is_labeled", "greater", True, "Boolean"),
            'filters.items[0].operator: operator "greater" does not',
        ),
        (
            item("annotators", "equal", 1, "List"),
            'filters.items[0].operator: operator "equal" does not apply',
        ),
        (
            item("data.text", "less", "a", "String"),
            'filters.items[0].operator: operator "less" does not apply',
        ),
        (item("total_annotations", "in_list", [1]), 'filters.items[0].operator: operator "in_list" does not'),
        (item("id", "equal", "5"), 'filters.items[0].value: expected a number, got "5"'),
        (item("id", "equal", True), "filters.items[0].value: expected a number, got true"),
        (item("id", "equal", None), "filters.items[0].value: a value is required"),
        (
            {"filter": "filter:tasks:id", "operator": "equal", "type": "Number"},
            "filters.items[0].value: a value is",
        ),
        (item("id", "in", 5), 'filters.items[0].value: "in" takes {"min": ..., "max": ...}, got 5'),
        (item("id", "not_in", {"min": 1}), 'filters.items[0].value: "not_in" takes {"min": ..., "max": ...}'),
        (item("id", "in", {"min": 1, "max": "9"}), 'filters.items[0].value.max: expected a number, got "9"'),
        (item("id", "in_list", 5), 'filters.items[0].value: "in_list" takes a list, got 5'),
        (item("id", "in_list", [1, "2"]), 'filters.items[0].value[1]: expected a number, got "2"'),
        (
            item("data.x", "in_list", ["a", {}], "String"),
            "filters.items[0].value[1]: expected a string or a number",
        ),
        (
            item("completed_at", "greater", "yesterday", "Datetime"),
            "filters.items[0].value: expected an ISO 8601",
        ),
        (item("completed_at", "greater", 5, "Datetime"), "filters.items[0].value: expected an ISO 8601"),
        (
            item("completed_at", "in", {"min": "2024-01-01T00:00:00Z", "max": None}, "Datetime"),
            "filters.items[0].value.max: expected an ISO 8601",
        ),
        (
            item("completed_at", "empty", "false", "Datetime"),
            'filters.items[0].value: expected true or false, got "false"',
        ),
        (item("is_labeled", "equal", 1, "Boolean"), "filters.items[0].value: expected true or false, got 1"),
        (item("data.text", "contains", 5, "String"), "filters.items[0].value: expected a string, got 5"),
        (item("data.text", "regex", "(", "String"), "filters.items[0].value: invalid regular expression"),
        (
            item("annotators", "contains", "7", "List"),
            "filters.items[0].value: expected a user id or a list of user",
        ),
        (
            item("annotators", "contains", [7, None], "List"),
            "filters.items[0].value: expected a user id or a list",
        ),
        (
            item("id", "equal", 1) | {"child_filter": item("id", "equal", 2)},
            "filters.items[0].child_filter: child filters are not supported",
        ),
    ],
)
def test_invalid_filter_item(filter_item, expected):
    assert error_of(filter_item).startswith(expected)


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("tasks:id", 'ordering: expected a list of columns like "-tasks:id", got "tasks:id"'),
        (["tasks:id", "tasks:colour"], 'ordering[1]: unknown column "tasks:colour"'),
        (["-tasks:colour"], 'ordering[0]: unknown column "tasks:colour"'),
        (["id"], 'ordering[0]: expected a column like "tasks:id", got "id"'),
        ([3], 'ordering[0]: expected a column like "tasks:id", got 3'),
    ],
)
def test_invalid_ordering(ordering, expected):
    assert error({"ordering": ordering}) == expected


@pytest.mark.parametrize(
    ("selected", "expected"),
    [
        ([1, 2], "selectedItems: expected"),
        ({"excluded": [1]}, "selectedItems: expected"),
        ({"all": "yes"}, "selectedItems: expected"),
        ("{oops", "selectedItems: not valid JSON"),
        ({"all": True, "excluded": "1,2"}, 'selectedItems.excluded: expected a list of task ids, got "1,2"'),
        ({"all": False, "included": [1, "2"]}, "selectedItems.included: expected a list of task ids"),
        ({"all": False, "included": [True]}, "selectedItems.included: expected a list of task ids"),
    ],
)
def test_invalid_selected_items(selected, expected):
    assert error({"selectedItems": selected}).startswith(expected)
