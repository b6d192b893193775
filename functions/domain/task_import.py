"""Label Studio import payloads (JSON bodies and uploaded files) turned into plain, validated tasks.

Follows Label Studio's bulk import (`data_import/models.py`, `tasks/serializers.py`,
`tasks/validation.py`): an item without a truthy `"data"` is itself the task data; `completions` is the
old name of `annotations`; a `$undefined$` key (from TXT files) becomes the config's first data key;
imported annotations are ground truth unless they say otherwise. Bounds on the number of tasks are the
caller's business.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import math
import os
from contextlib import contextmanager
from dataclasses import dataclass, field

from functions.domain.errors import ValidationFailed
from functions.domain.json_limits import encoded_size, number_problem
from functions.domain.label_config import LabelConfig

# Label Studio's `settings.DATA_UNDEFINED_NAME`: the key of data read from a file with no field names.
DATA_UNDEFINED_NAME = "$undefined$"
MAX_REPORTED_ERRORS = 10
_ITEM_PREVIEW_CHARS = 200
_NOT_A_LIST = "Import data must be a list of tasks or one task object"


@dataclass
class ImportedTask:
    data: dict
    meta: dict = field(default_factory=dict)
    # each {"result": list, "score": float | None, "model_version": str}
    predictions: list[dict] = field(default_factory=list)
    # each {"result": list, "lead_time": float | None, "was_cancelled": bool, "ground_truth": bool,
    #       "completed_by": int | str | dict | None (as imported), "import_id": the imported "id" or None}
    annotations: list[dict] = field(default_factory=list)


# A task's data moves to the files bucket when large; its meta stays in the task's item, whose 400 KB
# DynamoDB bounds (inline data is at most `offload_bytes`, 300 KB by default).
META_MAX_BYTES = 64 * 1024


def meta_too_large(meta: dict) -> str | None:
    """Why `meta` cannot be kept with its task (None if it can)."""
    size = encoded_size(meta)
    if size > META_MAX_BYTES:
        return f'"meta" is {size} bytes as JSON; at most {META_MAX_BYTES} are kept with a task'
    return None


class _Invalid(ValueError):
    """What is wrong with one item; `normalize_import` adds which item it is."""


# --- files ----------------------------------------------------------------------------------------------


def read_import_file(filename: str, content: bytes) -> list:
    """The items in one uploaded file, chosen by extension.

    JSON holds one task object or a list; JSONL/NDJSON one task object per line. CSV/TSV rows become
    `{"data": {column: text}}` (values stay strings; short rows are padded with ""), TXT lines
    `{"data": {"$undefined$": line}}` (LS's rule; `normalize_import` renames the key). Tabular rows are
    wrapped in "data" so a column called "data" or "meta" stays task data.
    """
    extension = os.path.splitext(filename)[1].lower()
    reader = _READERS.get(extension)
    if reader is None:
        raise ValidationFailed(
            {
                "file": [
                    f"unsupported file type {extension or '(no extension)'}; use JSON, JSONL, CSV, TSV or TXT"
                ]
            }
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_error(filename, f"not UTF-8 text (invalid byte at offset {exc.start})") from None
    return reader(filename, text)


def _file_error(filename: str, message: str) -> ValidationFailed:
    return ValidationFailed({"file": [f"{filename}: {message}"]})


def _reject_constant(name: str):
    # NaN and Infinity are not JSON; Python accepts them, but nothing downstream can store them.
    raise ValueError(f"{name} is not valid JSON")


def _loads(text: str):
    return json.loads(text, parse_constant=_reject_constant)


def _read_json(filename: str, text: str) -> list:
    try:
        value = _loads(text)
    except json.JSONDecodeError as exc:
        raise _file_error(
            filename, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise _file_error(filename, f"invalid JSON: {exc}") from None
    except RecursionError:
        raise _file_error(filename, "invalid JSON: nested too deeply") from None
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return value
    raise _file_error(filename, f"expected a task object or a list of tasks, got {_json_type(value)}")


def _lines(text: str) -> list[str]:
    # Not str.splitlines(): it also splits on U+2028 and friends, which JSON strings may hold unescaped.
    return [line.removesuffix("\r") for line in text.split("\n")]


def _read_jsonl(filename: str, text: str) -> list:
    items = []
    for number, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        try:
            value = _loads(line)
        except json.JSONDecodeError as exc:
            raise _file_error(
                filename, f"line {number}: invalid JSON at column {exc.colno}: {exc.msg}"
            ) from None
        except ValueError as exc:
            raise _file_error(filename, f"line {number}: invalid JSON: {exc}") from None
        except RecursionError:
            raise _file_error(filename, f"line {number}: invalid JSON: nested too deeply") from None
        if not isinstance(value, dict):
            raise _file_error(filename, f"line {number}: expected a task object, got {_json_type(value)}")
        items.append(value)
    return items


def _read_table(filename: str, text: str, delimiter: str) -> list:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next((row for row in reader if row), None)
        if header is None:
            raise _file_error(filename, "no header row; the first line must name the columns")
        # pandas, which Label Studio reads tables with, names blank columns this way.
        columns = [name or f"Unnamed: {index}" for index, name in enumerate(header)]
        if len(set(columns)) != len(columns):
            duplicate = next(name for name in columns if columns.count(name) > 1)
            raise _file_error(
                filename, f'line {reader.line_num}: column "{duplicate}" appears twice in the header'
            )
        width = len(columns)
        items = []
        for row in reader:
            if not row:
                continue
            if len(row) > width:
                raise _file_error(
                    filename, f"line {reader.line_num}: {len(row)} fields, but the header has {width}"
                )
            if len(row) < width:
                row = row + [""] * (width - len(row))
            items.append({"data": dict(zip(columns, row, strict=True))})
        return items
    except csv.Error as exc:
        raise _file_error(filename, f"line {reader.line_num}: {exc}") from None


def _read_csv(filename: str, text: str) -> list:
    return _read_table(filename, text, ",")


def _read_tsv(filename: str, text: str) -> list:
    return _read_table(filename, text, "\t")


def _read_txt(filename: str, text: str) -> list:
    return [{"data": {DATA_UNDEFINED_NAME: line}} for line in _lines(text) if line.strip()]


_READERS = {
    ".json": _read_json,
    ".jsonl": _read_jsonl,
    ".ndjson": _read_jsonl,
    ".csv": _read_csv,
    ".tsv": _read_tsv,
    ".txt": _read_txt,
}


# --- items ----------------------------------------------------------------------------------------------


def normalize_import(items: object, config: LabelConfig | None) -> list[ImportedTask]:
    """Validate an import and return its tasks, or raise ValidationFailed({"non_field_errors": [...]}).

    Reports the first MAX_REPORTED_ERRORS bad items, each as Label Studio words it
    (`Error at item {i}: {what} :: {the item}`), and stops looking after that many. Without a config
    (`None`) task data and results are only checked for shape. Task data dicts are not copied.
    """
    if isinstance(items, dict):
        items = [items]
    elif not isinstance(items, list):
        raise ValidationFailed({"non_field_errors": [_NOT_A_LIST]})
    data_keys = config.data_keys if config is not None else ()
    tasks: list[ImportedTask] = []
    errors: list[str] = []
    with _cyclic_gc_paused():
        for index, item in enumerate(items):
            try:
                tasks.append(_task(item, config, data_keys))
            except _Invalid as exc:
                errors.append(f"Error at item {index}: {exc} :: {_preview(_as_imported(item))}")
                if len(errors) >= MAX_REPORTED_ERRORS:
                    break
    if errors:
        raise ValidationFailed({"non_field_errors": errors})
    return tasks


@contextmanager
def _cyclic_gc_paused():
    """A large import allocates several containers per task, and the cyclic collector would rescan the
    growing heap over and over (3-4x the run time at 100k tasks). Nothing built here forms cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _as_imported(item: object) -> object:
    """The item as Label Studio shows it in errors: a flat task is wrapped in "data"."""
    if isinstance(item, dict) and not item.get("data"):
        return {"data": item}
    return item


def _preview(item: object) -> str:
    text = repr(item)
    return text if len(text) <= _ITEM_PREVIEW_CHARS else text[: _ITEM_PREVIEW_CHARS - 3] + "..."


def _task(item: object, config: LabelConfig | None, data_keys: tuple[str, ...]) -> ImportedTask:
    if not isinstance(item, dict):
        raise _Invalid(f"a task must be a JSON object, got {_json_type(item)}")
    data = item.get("data")
    flat = not data
    if flat:
        data = item
    elif not isinstance(data, dict):
        raise _Invalid(f'"data" must be a JSON object, got {_json_type(data)}')
    if data_keys:
        if DATA_UNDEFINED_NAME in data:
            data = dict(data)
            data[data_keys[0]] = data.pop(DATA_UNDEFINED_NAME)
        for key in data_keys:
            if key not in data:
                raise _Invalid(
                    f'"{key}" key is expected in task data [assume: item["data"] = task root with values]'
                )
    if flat:
        return ImportedTask(data=data, meta={}, predictions=[], annotations=[])
    meta = item.get("meta")
    if meta is None:
        meta = {}
    elif not isinstance(meta, dict):
        raise _Invalid(f'"meta" must be a JSON object, got {_json_type(meta)}')
    elif (too_large := meta_too_large(meta)) is not None:
        raise _Invalid(too_large)
    annotations_key = "annotations" if item.get("annotations") is not None else "completions"
    return ImportedTask(
        data=data,
        meta=meta,
        predictions=[_prediction(p, j, config) for j, p in enumerate(_list(item, "predictions"))],
        annotations=[_annotation(a, j, config) for j, a in enumerate(_list(item, annotations_key))],
    )


def _list(item: dict, name: str) -> list:
    value = item.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Invalid(f'"{name}" must be a list, got {_json_type(value)}')
    return value


def _prediction(raw: object, j: int, config: LabelConfig | None) -> dict:
    where = f"predictions[{j}]"
    if not isinstance(raw, dict):
        raise _Invalid(f"{where}: must be an object, got {_json_type(raw)}")
    if raw.get("result") is None:
        raise _Invalid(f"{where}.result: required")
    result = raw["result"]
    if not isinstance(result, list):
        try:
            result = _result_from_value(result, config)
        except ValueError as exc:
            raise _Invalid(f"{where}.result: {exc}") from None
    _check_result(result, config, where)
    model_version = raw.get("model_version")
    return {
        "result": result,
        "score": _score(raw.get("score")),
        "model_version": "undefined" if model_version in (None, "") else str(model_version),
    }


def _result_from_value(value: object, config: LabelConfig | None) -> list:
    if config is not None:
        return config.prediction_result_from_value(value)
    if isinstance(value, dict):
        return [value]
    raise ValueError(f"{value!r} can only be mapped to a control tag with a label config")


def _annotation(raw: object, j: int, config: LabelConfig | None) -> dict:
    where = f"annotations[{j}]"
    if not isinstance(raw, dict):
        raise _Invalid(f"{where}: must be an object, got {_json_type(raw)}")
    result = raw.get("result")
    if result is None:
        result = []
    _check_result(result, config, where)
    completed_by = raw.get("completed_by")
    if isinstance(completed_by, bool) or not isinstance(completed_by, (int, str, dict, type(None))):
        raise _Invalid(
            f"{where}.completed_by: must be a user id, an email or a user object, "
            f"got {_json_type(completed_by)}"
        )
    return {
        "result": result,
        "lead_time": _lead_time(raw.get("lead_time"), where),
        "was_cancelled": _flag(raw, "was_cancelled", False, where),
        # Label Studio marks imported annotations as ground truth unless told otherwise.
        "ground_truth": _flag(raw, "ground_truth", True, where),
        "completed_by": completed_by,
        "import_id": _import_id(raw.get("id")),
    }


def _check_result(result: object, config: LabelConfig | None, where: str) -> None:
    if config is not None:
        try:
            config.validate_result(result)
        except ValueError as exc:
            raise _Invalid(f"{where}.{exc}") from None
        return
    if not isinstance(result, list):
        raise _Invalid(f"{where}.result: must be a list of regions, got {_json_type(result)}")
    for i, region in enumerate(result):
        if not isinstance(region, dict):
            raise _Invalid(f"{where}.result[{i}]: must be an object, got {_json_type(region)}")


def _score(value: object) -> float | None:
    """Label Studio's rule: the score as a float if it is one, else no score."""
    if not isinstance(value, str | int | float):  # JSON's lists, objects and null
        return None
    try:
        score = float(value)
    except (TypeError, ValueError):
        return None
    return score if number_problem(score) is None else None  # finite, and a number DynamoDB stores


def _lead_time(value: object, where: str) -> float | None:
    if value is None:
        return None
    # Strings too: Label Studio's serializer field (DRF FloatField) reads "3.2".
    if not isinstance(value, bool) and isinstance(value, (int, float, str)):
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
        if number_problem(seconds) is None:
            return seconds
    raise _Invalid(f"{where}.lead_time: must be a number of seconds, got {_preview_value(value)}")


def _import_id(value: object) -> int | None:
    # The annotation's id where it came from, kept for reference; one no id column could hold is dropped.
    if isinstance(value, int) and not isinstance(value, bool) and -(2**63) < value < 2**63:
        return value
    return None


def _flag(raw: dict, name: str, default: bool, where: str) -> bool:
    value = raw.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _Invalid(f"{where}.{name}: must be true or false, got {_preview_value(value)}")
    return value


def _preview_value(value: object) -> str:
    text = json.dumps(value) if isinstance(value, str) else _json_type(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_type(value: object) -> str:
    """Name a value's type as a JSON user would."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
