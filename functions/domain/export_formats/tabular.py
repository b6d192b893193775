"""JSON, JSON_MIN, CSV and TSV: one record per item (label-studio-sdk `Converter.convert_to_json_min`,
`exports/csv2.py`)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from typing import IO

from functions.domain.export_formats import jsontext
from functions.domain.export_formats.items import Item, annotator, iter_items, prettify
from functions.domain.export_formats.sink import TextSink

TaskSource = Callable[[], Iterable[dict]]

# Columns every CSV has, whatever the items hold.
_ANNOTATION_COLUMNS = ("annotator", "annotation_id", "created_at", "updated_at", "lead_time")


def write_json(tasks: TaskSource, out: IO[bytes]) -> None:
    """The full export as Label Studio writes it: `ujson.dumps(tasks, ensure_ascii=False)`."""
    sink = TextSink(out)
    sink.write("[")
    for i, task in enumerate(tasks()):
        if i:
            sink.write(",")
        sink.write(jsontext.dumps(task))
    sink.write("]")
    sink.flush()


def write_json_min(tasks: TaskSource, parsed: dict, out: IO[bytes]) -> None:
    sink = TextSink(out)
    sink.write("[\n")
    for i, item in enumerate(iter_items(tasks(), parsed)):
        if i:
            sink.write(",\n")
        sink.write(jsontext.dumps(json_min_record(item), indent=2))
    sink.write("\n]")
    sink.flush()


def json_min_record(item: Item) -> dict:
    # Built in the SDK's order, so a data key named like a control (or "id", "annotator", ...) is
    # overwritten in place, keeping its position.
    record = dict(item.data)
    if item.task_id is not None:
        record["id"] = item.task_id
    for name, values in item.output.items():
        record[name] = prettify(values)
    _add_annotation_columns(record, item, annotator(item, int_id=True))
    return record


def _add_annotation_columns(record: dict, item: Item, annotator_value) -> None:
    """The annotation's own columns, which close a JSON_MIN record and a CSV row alike."""
    record["annotator"] = annotator_value
    record["annotation_id"] = item.annotation_id
    record["created_at"] = item.created_at
    record["updated_at"] = item.updated_at
    record["lead_time"] = item.lead_time
    if item.has_agreement:
        record["agreement"] = item.agreement


def write_csv(tasks: TaskSource, parsed: dict, out: IO[bytes], *, delimiter: str = ",") -> None:
    """Two passes: the header is the sorted union of every row's columns, so it is known only at the end
    of the first."""
    data_keys: set[str] = set()
    output_keys: set[str] = set()
    other_columns: set[str] = set(_ANNOTATION_COLUMNS)
    for item in iter_items(tasks(), parsed):
        data_keys.update(item.data)
        output_keys.update(item.output)
        other_columns.update(_other_columns(item))
    # A task.data key that is also a control name becomes `_data_<key>` in every row, so it does not
    # overwrite the annotation's column.
    colliding = data_keys & output_keys
    columns = other_columns | output_keys | {_data_column(key, colliding) for key in data_keys}

    sink = TextSink(out)
    # The SDK writes to a text file opened without newline="", which on Linux leaves csv's "\r\n" as is.
    writer = csv.DictWriter(
        sink, fieldnames=sorted(columns), quoting=csv.QUOTE_NONNUMERIC, delimiter=delimiter
    )
    writer.writeheader()
    for item in iter_items(tasks(), parsed):
        writer.writerow(csv_record(item, colliding))
    sink.flush()


def _other_columns(item: Item) -> set[str]:
    columns = set()
    if item.task_id is not None:
        columns.add("id")
    for name, values in item.output.items():
        if _is_chat(values):
            columns.add(f"{name}_transcript")
    if item.has_agreement:
        columns.add("agreement")
    if item.history:
        columns.add("history")
    return columns


def _data_column(key: str, colliding: set[str]) -> str:
    return f"_data_{key}" if key in colliding else key


def _is_chat(values: list) -> bool:
    return any(isinstance(v, dict) and v.get("type") in ("Chat", "chatmessage") for v in values)


def csv_record(item: Item, colliding: set[str]) -> dict:
    record = {}
    if item.task_id is not None:
        record["id"] = item.task_id
    for name, values in item.output.items():
        pretty = prettify(values)
        record[name] = pretty if isinstance(pretty, str) else jsontext.dumps(pretty)
        if _is_chat(values):
            record[f"{name}_transcript"] = _chat_transcript(pretty)
    for key, value in item.data.items():
        column = _data_column(key, colliding)
        record[column] = jsontext.dumps(value) if isinstance(value, (dict, list)) else value
    _add_annotation_columns(record, item, annotator(item))
    if item.history:
        record["history"] = jsontext.dumps(item.history)
    return record


def _chat_transcript(messages) -> str:
    """csv2's `generate_chat_transcript`: "role: content" per message."""
    lines = []
    if isinstance(messages, list):
        for message in messages:
            if not isinstance(message, dict):
                continue
            role = str(message.get("role", ""))
            content = str(message.get("content", ""))
            if role:
                lines.append(f"{role}: {content}" if content else f"{role}:")
            else:
                lines.append(content)
    return "\n".join(lines)
