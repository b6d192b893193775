"""Import payloads: files to items, items to validated tasks, with Label Studio's wording for errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.domain.errors import ValidationFailed
from functions.domain.label_config import parse_label_config
from functions.domain.task_import import ImportedTask, normalize_import, read_import_file

# Answers captured from Label Studio 1.23.2 (tests/fixtures/ls-samples/README.md says what each is).
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "ls-samples"

CONFIG = parse_label_config("""
<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>
  </Choices>
</View>""")
TWO_KEYS = parse_label_config(
    '<View><Image name="image" value="$image"/><Text name="caption" value="$caption"/></View>'
)

CHOICE = {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Neutral"]}}


def import_errors(items, config=CONFIG) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        normalize_import(items, config)
    assert list(caught.value.errors) == ["non_field_errors"]
    return caught.value.errors["non_field_errors"]


def file_errors(filename: str, content: bytes) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        read_import_file(filename, content)
    assert list(caught.value.errors) == ["file"]
    return caught.value.errors["file"]


# --- normalize_import: accepted ----------------------------------------------------------------------------


def test_flat_dicts_are_task_data():
    tasks = normalize_import([{"text": "a"}, {"text": "b", "extra": 1}], CONFIG)
    assert tasks == [ImportedTask(data={"text": "a"}), ImportedTask(data={"text": "b", "extra": 1})]


def test_one_task_object_is_a_list_of_one():
    assert normalize_import({"data": {"text": "a"}}, CONFIG) == [ImportedTask(data={"text": "a"})]


def test_flat_item_keeps_even_prediction_like_keys_as_data():
    # Label Studio's rule: no truthy "data" means the whole item is the data.
    [task] = normalize_import([{"text": "a", "data": {}, "predictions": "not parsed"}], CONFIG)
    assert task.data == {"text": "a", "data": {}, "predictions": "not parsed"}
    assert task.predictions == []


def test_data_predictions_and_annotations():
    item = {
        "data": {"text": "hello"},
        "meta": {"source": "crm"},
        "predictions": [
            {"result": [CHOICE], "score": "0.77", "model_version": "capture-v1"},
            {"result": [CHOICE]},
        ],
        "annotations": [
            {"id": 21, "result": [CHOICE], "lead_time": 3.2, "completed_by": 1},
            {"result": [], "was_cancelled": True, "ground_truth": False, "lead_time": "4"},
        ],
    }
    [task] = normalize_import([item], CONFIG)
    assert task.data == {"text": "hello"} and task.meta == {"source": "crm"}
    assert task.predictions == [
        {"result": [CHOICE], "score": 0.77, "model_version": "capture-v1"},
        {"result": [CHOICE], "score": None, "model_version": "undefined"},
    ]
    assert task.annotations == [
        {
            "result": [CHOICE],
            "lead_time": 3.2,
            "was_cancelled": False,
            "ground_truth": True,
            "completed_by": 1,
            "import_id": 21,
        },
        {
            "result": [],
            "lead_time": 4.0,
            "was_cancelled": True,
            "ground_truth": False,
            "completed_by": None,
            "import_id": None,
        },
    ]


def test_recorded_task_imports_back():
    task = json.loads((SAMPLES / "task_with_imported_annotation.json").read_text())
    [imported] = normalize_import([task], CONFIG)
    assert imported.annotations[0]["completed_by"]["email"] == "admin@example.com"
    assert imported.predictions[0]["score"] == 0.77


def test_completions_is_the_old_name_of_annotations():
    [task] = normalize_import([{"data": {"text": "a"}, "completions": [{"result": [CHOICE]}]}], CONFIG)
    assert task.annotations[0]["result"] == [CHOICE] and task.annotations[0]["ground_truth"] is True


def test_prediction_shortcuts():
    [task] = normalize_import(
        [
            {
                "data": {"text": "a"},
                "predictions": [{"result": "Positive", "score": 0.9}, {"result": {"choices": ["Negative"]}}],
            }
        ],
        CONFIG,
    )
    shortcut = {"from_name": "sentiment", "to_name": "text", "type": "choices"}
    assert [p["result"] for p in task.predictions] == [
        [{**shortcut, "value": {"choices": ["Positive"]}}],
        [{**shortcut, "value": {"choices": ["Negative"]}}],
    ]


@pytest.mark.parametrize(
    ("score", "expected"),
    [(1, 1.0), ("0.5", 0.5), ("high", None), (None, None), (float("nan"), None), ([1], None)],
)
def test_score_is_a_float_or_none(score, expected):
    item = {"data": {"text": "a"}, "predictions": [{"result": [], "score": score}]}
    [task] = normalize_import([item], CONFIG)
    assert task.predictions[0]["score"] == expected


def test_undefined_key_takes_the_first_data_key():
    [one] = normalize_import([{"$undefined$": "a line"}], CONFIG)
    assert one.data == {"text": "a line"}
    [two] = normalize_import([{"data": {"$undefined$": "x.png", "caption": "c"}}], TWO_KEYS)
    assert two.data == {"caption": "c", "image": "x.png"}


def test_without_a_config_only_shapes_are_checked():
    item = {"data": {"anything": 1}, "predictions": [{"result": [{"type": "whatever"}]}]}
    [task] = normalize_import([item], None)
    assert task.data == {"anything": 1}


# --- normalize_import: rejected ----------------------------------------------------------------------------


def test_missing_key_error_matches_label_studio_word_for_word():
    recorded = json.loads((SAMPLES / "error_400_import_bad.json").read_text())
    assert import_errors([{"nottext": 1}]) == recorded["validation_errors"]["non_field_errors"]
    assert import_errors([{"data": {"nottext": 1}}]) == recorded["validation_errors"]["non_field_errors"]


def test_long_items_are_cut_in_errors():
    [message] = import_errors([{"data": {"other": "x" * 1000}}])
    item_part = message.split(" :: ", 1)[1]
    assert len(item_part) == 200 and item_part.endswith("...")


@pytest.mark.parametrize("payload", ["text", 3, None, "[]"])
def test_not_a_list(payload):
    assert import_errors(payload) == ["Import data must be a list of tasks or one task object"]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("just text", "Error at item 0: a task must be a JSON object, got string :: 'just text'"),
        ({"data": ["text"]}, 'Error at item 0: "data" must be a JSON object, got array'),
        ({"data": {"text": "a"}, "meta": "m"}, 'Error at item 0: "meta" must be a JSON object, got string'),
        (
            {"data": {"text": "a"}, "predictions": {"result": []}},
            'Error at item 0: "predictions" must be a list',
        ),
        (
            {"data": {"text": "a"}, "predictions": [{"score": 1}]},
            "Error at item 0: predictions[0].result: required",
        ),
        (
            {"data": {"text": "a"}, "predictions": [{"result": [{**CHOICE, "from_name": "sentimnt"}]}]},
            'Error at item 0: predictions[0].result[0].from_name: "sentimnt" is not a control tag',
        ),
        (
            {"data": {"text": "a"}, "predictions": [{"result": 5}]},
            "Error at item 0: predictions[0].result: cannot use 5 as a result",
        ),
        (
            {"data": {"text": "a"}, "annotations": [{"result": [{**CHOICE, "type": "labels"}]}]},
            'Error at item 0: annotations[0].result[0].type: "labels" does not match',
        ),
        (
            {"data": {"text": "a"}, "annotations": [{"result": [], "lead_time": "soon"}]},
            'Error at item 0: annotations[0].lead_time: must be a number of seconds, got "soon"',
        ),
        (
            {"data": {"text": "a"}, "annotations": [{"result": [], "lead_time": [1]}]},
            "Error at item 0: annotations[0].lead_time: must be a number of seconds, got array",
        ),
        (
            {"data": {"text": "a"}, "annotations": [{"result": [], "was_cancelled": "yes"}]},
            'Error at item 0: annotations[0].was_cancelled: must be true or false, got "yes"',
        ),
        (
            {"data": {"text": "a"}, "annotations": [{"result": [], "completed_by": [1]}]},
            "Error at item 0: annotations[0].completed_by: "
            "must be a user id, an email or a user object, got array",
        ),
        (
            {"data": {"text": "a"}, "completions": [{"result": "Positive"}]},
            "Error at item 0: annotations[0].result: must be a list of regions, got str",
        ),
    ],
)
def test_bad_items(item, message):
    [error] = import_errors([item])
    assert error.startswith(message)


def test_errors_are_collected_up_to_ten_then_validation_stops():
    class Exploding(dict):
        def get(self, key, default=None):
            raise AssertionError("items after the tenth error must not be looked at")

    items = [{"text": "ok"}] + [{"nope": i} for i in range(10)] + [Exploding()]
    errors = import_errors(items)
    assert len(errors) == 10
    assert errors[0].startswith('Error at item 1: "text" key is expected')
    assert errors[-1].startswith("Error at item 10:")


def test_nothing_is_returned_when_one_item_is_bad():
    assert len(import_errors([{"text": "ok"}] * 5 + [{"txt": "bad"}])) == 1


# --- read_import_file --------------------------------------------------------------------------------------


def test_json_list_and_single_object():
    assert read_import_file("tasks.json", b'[{"text": "a"}, {"data": {"text": "b"}}]') == [
        {"text": "a"},
        {"data": {"text": "b"}},
    ]
    assert read_import_file("one.JSON", '\ufeff{"text": "é"}'.encode()) == [{"text": "é"}]


def test_jsonl_skips_blank_lines_and_keeps_line_separators_inside_strings():
    content = '{"text": "a"}\r\n\n   \n{"text": "b\u2028c"}\n'.encode()
    assert read_import_file("tasks.jsonl", content) == [{"text": "a"}, {"text": "b\u2028c"}]
    assert read_import_file("tasks.ndjson", b'{"text": "a"}') == [{"text": "a"}]


def test_csv_and_tsv_rows_become_string_data():
    csv_content = b'text,score\n"hello, world",1\n"two\nlines",\nshort\n'
    assert read_import_file("t.csv", csv_content) == [
        {"data": {"text": "hello, world", "score": "1"}},
        {"data": {"text": "two\nlines", "score": ""}},
        {"data": {"text": "short", "score": ""}},
    ]
    assert read_import_file("t.tsv", b"text\tdata\na\tb\n") == [{"data": {"text": "a", "data": "b"}}]


def test_txt_lines_become_undefined_then_the_config_key():
    items = read_import_file("notes.txt", b"first line\n\n  \r\nsecond line\r\n")
    assert items == [{"data": {"$undefined$": "first line"}}, {"data": {"$undefined$": "second line"}}]
    tasks = normalize_import(items, CONFIG)
    assert [t.data for t in tasks] == [{"text": "first line"}, {"text": "second line"}]


def test_files_feed_normalize_import():
    items = read_import_file("t.csv", b"text\nI like it\n")
    assert normalize_import(items, CONFIG) == [ImportedTask(data={"text": "I like it"})]


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("tasks.xml", b"<a/>", "unsupported file type .xml; use JSON, JSONL, CSV, TSV or TXT"),
        ("tasks", b"{}", "unsupported file type (no extension); use JSON, JSONL, CSV, TSV or TXT"),
        ("t.json", b"\xff\xfe{}", "t.json: not UTF-8 text (invalid byte at offset 0)"),
        (
            "t.json",
            b'[{"text": "a"},\n {"text": }]',
            "t.json: invalid JSON at line 2, column 11: Expecting value",
        ),
        ("t.json", b'"text"', "t.json: expected a task object or a list of tasks, got string"),
        ("t.json", b'[{"score": NaN}]', "t.json: invalid JSON: NaN is not valid JSON"),
        ("t.json", b"[" * 100_000, "t.json: invalid JSON: nested too deeply"),
        (
            "t.jsonl",
            b'{"text": "a"}\n\n{"text": \n',
            "t.jsonl: line 3: invalid JSON at column 10: Expecting value",
        ),
        ("t.jsonl", b'{"text": "a"}\n[1]\n', "t.jsonl: line 2: expected a task object, got array"),
        ("t.csv", b"", "t.csv: no header row; the first line must name the columns"),
        ("t.csv", b"a,b,a\n1,2,3\n", 't.csv: line 1: column "a" appears twice in the header'),
        ("t.csv", b"a,b\n1,2\n1,2,3\n", "t.csv: line 3: 3 fields, but the header has 2"),
        ("t.csv", b'a,b\n1,"2"x\n', "t.csv: line 2: ',' expected after '\"'"),
    ],
)
def test_bad_files(filename, content, message):
    assert file_errors(filename, content) == [message]
