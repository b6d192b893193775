"""Label Studio's Data Manager query — `{"filters": {"conjunction", "items"}, "ordering", "selectedItems"}`
— parsed, validated and applied to plain task rows (LS `data_manager/prepare_params.py`,
`data_manager/managers.py`).

A row has the columns in `COLUMNS`, and the task data under `row["data"]` (filtered as `data.<key>`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from functions.domain.errors import ValidationFailed

COLUMNS = {
    "id": "Number", "inner_id": "Number", "total_annotations": "Number", "cancelled_annotations": "Number",
    "total_predictions": "Number", "predictions_score": "Number", "annotators": "List",
    "completed_at": "Datetime", "created_at": "Datetime", "updated_at": "Datetime", "is_labeled": "Boolean",
}
_OPERATORS = ("equal", "not_equal", "less", "greater", "less_or_equal", "greater_or_equal", "in", "not_in",
              "contains", "not_contains", "empty", "regex")


def _fail(where: str, message: str) -> ValidationFailed:
    return ValidationFailed.field("query", f"{where}: {message}")


@dataclass(frozen=True)
class Filter:
    column: str  # a COLUMNS name, or "data.<key>"
    operator: str
    value: object

    def value_of(self, row: dict):
        if self.column.startswith("data."):
            return (row.get("data") or {}).get(self.column[5:])
        return row.get(self.column)

    def matches(self, row: dict) -> bool:
        return _apply(self.operator, self.value_of(row), self.value)


def _as_time(value):
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return value


def _compare(op: str, actual, wanted) -> bool:
    actual = _as_time(actual)
    if actual is None:
        return False
    try:
        if op == "equal":
            return actual == wanted
        if op == "not_equal":
            return actual != wanted
        if op == "less":
            return actual < wanted
        if op == "greater":
            return actual > wanted
        if op == "less_or_equal":
            return actual <= wanted
        return actual >= wanted
    except TypeError:  # e.g. a number filter on a data field holding text
        return False


def _apply(op: str, actual, wanted) -> bool:
    if op == "empty":
        is_empty = actual is None or actual == "" or actual == [] or actual == {}
        return is_empty == bool(wanted)
    if isinstance(actual, list):  # annotators: contains / not_contains a user id
        if op in ("contains", "equal"):
            return wanted in actual
        if op in ("not_contains", "not_equal"):
            return wanted not in actual
        return False
    if op in ("in", "not_in"):
        low, high = wanted
        inside = _compare("greater_or_equal", actual, low) and _compare("less_or_equal", actual, high)
        return inside if op == "in" else (actual is not None and not inside)
    if op in ("contains", "not_contains"):
        found = actual is not None and str(wanted).lower() in str(actual).lower()
        return found if op == "contains" else not found
    if op == "regex":
        return actual is not None and re.search(wanted, str(actual)) is not None
    if isinstance(wanted, str) and isinstance(actual, str):
        actual, wanted = actual.lower(), wanted.lower()  # LS compares strings case-insensitively
    return _compare(op, actual, wanted)


@dataclass(frozen=True)
class Selection:
    all: bool = True
    ids: frozenset[int] = frozenset()  # excluded when `all`, included otherwise


@dataclass(frozen=True)
class TaskQuery:
    filters: tuple[Filter, ...] = ()
    conjunction: str = "and"
    ordering: tuple[str, ...] = ()
    selected: Selection = Selection()

    @property
    def is_default(self) -> bool:
        return not self.filters and not self.ordering and self.selected == Selection()

    def matches(self, row: dict) -> bool:
        if not self.filters:
            return True
        results = (f.matches(row) for f in self.filters)
        return all(results) if self.conjunction == "and" else any(results)

    def is_selected(self, task_id: int) -> bool:
        return (task_id not in self.selected.ids) if self.selected.all else (task_id in self.selected.ids)

    def explicit_ids(self) -> list[int] | None:
        return None if self.selected.all else sorted(self.selected.ids)

    def sort(self, items: list, key: Callable[[object], dict] = lambda row: row) -> list:
        """Stable multi-column sort; missing values last ascending and first descending (Postgres)."""
        rows = list(items)
        for column in reversed(self.ordering):
            descending = column.startswith("-")
            name = column.lstrip("-")
            present = [r for r in rows if _column(key(r), name) is not None]
            missing = [r for r in rows if _column(key(r), name) is None]
            present.sort(key=lambda r, n=name: _as_time(_column(key(r), n)), reverse=descending)
            rows = (missing + present) if descending else (present + missing)
        return rows


def _column(row: dict, name: str):
    return (row.get("data") or {}).get(name[5:]) if name.startswith("data.") else row.get(name)


def _column_name(raw, where: str, prefix: str) -> str:
    if not isinstance(raw, str) or not raw.startswith(prefix):
        raise _fail(where, f"expected a column like {prefix}id, got {raw!r}")
    name = raw[len(prefix):]
    if name not in COLUMNS and not (name.startswith("data.") and len(name) > 5):
        raise _fail(where, f"unknown column {raw!r}")
    return name


def _parse_time(value, where: str) -> datetime:
    if not isinstance(value, str):
        raise _fail(where, f"expected an ISO date-time, got {value!r}")
    try:
        return _as_time(datetime.fromisoformat(value))
    except ValueError:
        raise _fail(where, f"expected an ISO date-time, got {value!r}") from None


def _parse_value(column: str, operator: str, value, where: str):
    kind = COLUMNS.get(column, "String")
    if operator == "empty":
        if not isinstance(value, bool):
            raise _fail(where, "'empty' takes true or false")
        return value
    if operator in ("in", "not_in"):
        if not isinstance(value, dict) or "min" not in value or "max" not in value:
            raise _fail(where, f"'{operator}' takes {{\"min\": …, \"max\": …}}")
        return (_parse_value(column, "equal", value["min"], where + ".min"),
                _parse_value(column, "equal", value["max"], where + ".max"))
    if operator == "regex":
        try:
            re.compile(str(value))
        except re.error as exc:
            raise _fail(where, f"invalid regular expression: {exc}") from None
        return str(value)
    if kind in ("Number", "List"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(where, f"expected a number, got {value!r}")
        return value
    if kind == "Datetime":
        return _parse_time(value, where)
    if kind == "Boolean":
        if not isinstance(value, bool):
            raise _fail(where, f"expected true or false, got {value!r}")
        return value
    return value


def _parse_filters(raw, into: dict) -> None:
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise _fail("filters", "expected an object with 'conjunction' and 'items'")
    conjunction = raw.get("conjunction", "and")
    if conjunction not in ("and", "or"):
        raise _fail("filters.conjunction", f"expected 'and' or 'or', got {conjunction!r}")
    items = raw.get("items") or []
    if not isinstance(items, list):
        raise _fail("filters.items", "expected a list")
    filters = []
    for i, item in enumerate(items):
        where = f"filters.items[{i}]"
        if not isinstance(item, dict):
            raise _fail(where, "expected an object")
        column = _column_name(item.get("filter"), where + ".filter", "filter:tasks:")
        operator = item.get("operator")
        if operator not in _OPERATORS:
            raise _fail(where + ".operator", f"unknown operator {operator!r}")
        filters.append(Filter(column, operator, _parse_value(column, operator, item.get("value"), where + ".value")))
    into.update(filters=tuple(filters), conjunction=conjunction)


def _parse_selection(raw) -> Selection:
    if raw is None:
        return Selection()
    if not isinstance(raw, dict) or not isinstance(raw.get("all"), bool):
        raise _fail("selectedItems", "expected {\"all\": true, \"excluded\": [...]} or {\"all\": false, \"included\": [...]}")
    key = "excluded" if raw["all"] else "included"
    ids = raw.get(key) or []
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise _fail(f"selectedItems.{key}", "expected a list of task ids")
    return Selection(all=raw["all"], ids=frozenset(ids))


def parse_task_query(raw) -> TaskQuery:
    if raw is None or raw == "":
        return TaskQuery()
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise _fail("query", f"not valid JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise _fail("query", "expected a JSON object")
    parts: dict = {}
    _parse_filters(raw.get("filters"), parts)
    ordering = raw.get("ordering") or []
    if not isinstance(ordering, list):
        raise _fail("ordering", "expected a list of columns")
    order = tuple(("-" if o.startswith("-") else "") + _column_name(o.lstrip("-"), f"ordering[{i}]", "tasks:")
                  if isinstance(o, str) else _column_name(o, f"ordering[{i}]", "tasks:")
                  for i, o in enumerate(ordering))
    return TaskQuery(ordering=order, selected=_parse_selection(raw.get("selectedItems")), **parts)


