"""Data Manager views (the tabs of a project's task list): Label Studio's record, its JSON and the checks
on what a client may store in one.

A view's `data` is what Label Studio's Data Manager saves for a tab (`data_manager/serializers.py`
`ViewSerializer`, the frontend's `View.serialize()`):

    {"title": "Tab 1",
     "filters": {"conjunction": "and", "items": [{"filter": "filter:tasks:id", "operator": "greater",
                                                   "type": "Number", "value": 3}]},
     "ordering": ["-tasks:id"],
     "hiddenColumns": {"explore": ["tasks:inner_id"], "labeling": ["tasks:data.text"]},
     "selectedItems": {"all": false, "included": [7]},     # rarely: Label Studio keeps selection apart
     ...}                                                    # any other key the frontend keeps, as sent

The parts that decide which tasks the view shows (filters, ordering, selectedItems) are held to the Data
Manager query's rules (`task_query.py`), so a saved view always reads as a query; a bad one is a 400
naming the field (`data.filters.items[0].operator`). The rest is kept as sent, within a size bound.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from functions.domain.errors import ValidationFailed
from functions.domain.records import utcnow
from functions.domain.task_query import QueryProblem, TaskQuery, parse_task_query

# A view is one item: its data stays well under DynamoDB's 400 KB.
DATA_MAX_BYTES = 64 * 1024
TITLE_MAX = 256
HIDDEN_COLUMNS_MAX = 500
COLUMN_NAME_MAX = 1024
# The keys of `data` that select and order tasks, as the Data Manager query names them.
_QUERY_KEYS = ("filters", "ordering", "selectedItems")


@dataclass
class View:
    id: int
    project_id: int
    user_id: int | None
    data: dict = field(default_factory=dict)
    order: int = 0
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 0


def view_json(view: View) -> dict:
    """Label Studio's answer: the filters, ordering and selection inside `data`, as its serializer moves
    them there."""
    return {
        "id": view.id,
        "data": view.data,
        "order": view.order,
        "user": view.user_id,
        "project": view.project_id,
    }


def _fail(where: str, message: str) -> ValidationFailed:
    return ValidationFailed.field(where, message)


def _hidden_columns(value: Any) -> dict:
    if not isinstance(value, dict):
        raise _fail("data.hiddenColumns", 'Expected an object like {"explore": [...], "labeling": [...]}.')
    for mode, columns in value.items():
        where = f"data.hiddenColumns.{mode}"
        if not isinstance(columns, list):
            raise _fail(where, "Expected a list of column names.")
        if len(columns) > HIDDEN_COLUMNS_MAX:
            raise _fail(where, f"At most {HIDDEN_COLUMNS_MAX} columns.")
        for i, column in enumerate(columns):
            if not isinstance(column, str) or not column or len(column) > COLUMN_NAME_MAX:
                raise _fail(f"{where}[{i}]", f"Expected a column name of 1 to {COLUMN_NAME_MAX} characters.")
    return value


def check_data(raw: Any) -> dict:
    """`raw` as a view's data, or a ValidationFailed naming the field that is wrong."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail("data", "Expected a JSON object.")
    try:
        parse_task_query({key: raw[key] for key in _QUERY_KEYS if key in raw})
    except QueryProblem as problem:
        raise _fail(f"data.{problem.where}" if problem.where else "data", problem.message) from None
    title = raw.get("title")
    if title is not None and (not isinstance(title, str) or len(title) > TITLE_MAX):
        raise _fail("data.title", f"Expected a string of at most {TITLE_MAX} characters.")
    if raw.get("hiddenColumns") is not None:
        _hidden_columns(raw["hiddenColumns"])
    size = len(json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode())
    if size > DATA_MAX_BYTES:
        raise _fail("data", f"At most {DATA_MAX_BYTES} bytes of JSON; this is {size}.")
    return raw


def query_of(data: dict, *, with_selection: bool = True) -> TaskQuery:
    """The Data Manager query a view's data stands for (stored data passed `check_data`)."""
    keys = _QUERY_KEYS if with_selection else ("filters", "ordering")
    return parse_task_query({key: data[key] for key in keys if key in data})
