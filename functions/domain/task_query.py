"""Label Studio's Data Manager task query, parsed, validated and applied to plain task rows.

The query is what LS's Data Manager sends on `GET /api/tasks/?query=<json>` and in the body of
`POST /api/dm/actions` (LS `data_manager/prepare_params.py`, `apply_filters` in `data_manager/managers.py`):

    {"filters": {"conjunction": "and", "items": [{"filter": "filter:tasks:<column>", "operator": "...",
                                                  "type": "Number", "value": ...}]},
     "ordering": ["-tasks:<column>"],
     "selectedItems": {"all": true, "excluded": [ids]} | {"all": false, "included": [ids]}}

A row is a dict keyed by the column names in `COLUMNS`, with the task data under `row["data"]`
(filtered and ordered as `data.<key>`).

Missing values follow SQL, as LS's queries do: a None (or a missing data key) matches no comparison,
negated or not (`not_equal`, `not_in`, `not_contains` included); only `empty` sees it.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from functions.domain.errors import ValidationFailed
from functions.domain.json_limits import check_storable
from functions.domain.user_patterns import PatternRefused, compile_user_pattern

# How a column's values are read and compared.
NUMBER, DATETIME, BOOLEAN, STRING, LIST = "Number", "Datetime", "Boolean", "String", "List"

COLUMNS: dict[str, str] = {
    "id": NUMBER,
    "inner_id": NUMBER,
    "total_annotations": NUMBER,
    "cancelled_annotations": NUMBER,
    "total_predictions": NUMBER,
    "predictions_score": NUMBER,
    "annotators": LIST,
    "completed_at": DATETIME,
    "created_at": DATETIME,
    "updated_at": DATETIME,
    "is_labeled": BOOLEAN,
}

# The filter's declared `type` (LS's `Type` enum and the DM frontend's filter types) decides how a
# `data.<key>` column is read; a built-in column always keeps its own kind from COLUMNS.
DECLARED_TYPES: dict[str, str] = {
    "Number": NUMBER,
    "Time": NUMBER,
    "Datetime": DATETIME,
    "Date": DATETIME,
    "Boolean": BOOLEAN,
    "String": STRING,
    "Unknown": STRING,
    "List": STRING,
    "Image": STRING,
    "Audio": STRING,
    "AudioPlus": STRING,
    "Video": STRING,
}

# Counters: LS rewrites `empty` on them to `equal 0` / `not_equal 0`.
_COUNTERS = {"total_annotations", "cancelled_annotations", "total_predictions"}
# LS offers the list operators only on these columns (and on data.<key>).
_LIST_OPERATOR_COLUMNS = {"id", "inner_id"}

_ORDERED = ("equal", "not_equal", "less", "greater", "less_or_equal", "greater_or_equal", "in", "not_in")
OPERATORS_BY_KIND: dict[str, tuple[str, ...]] = {
    NUMBER: (*_ORDERED, "empty", "in_list", "not_in_list"),
    DATETIME: (*_ORDERED, "empty"),
    BOOLEAN: ("equal", "not_equal", "empty"),
    STRING: ("equal", "not_equal", "contains", "not_contains", "regex", "empty", "in_list", "not_in_list"),
    LIST: ("contains", "not_contains", "empty"),
}


class QueryProblem(ValidationFailed):
    """A bad query: named under `query` ("filters.items[0].value: ..."), and with its place (`where`) and
    `message` apart, for a caller that names the field differently (a saved view's `data.filters...`)."""

    def __init__(self, where: str, message: str):
        super().__init__({"query": [f"{where}: {message}" if where else message]})
        self.where = where
        self.message = message


def _fail(where: str, message: str) -> QueryProblem:
    return QueryProblem(where, message)


def _show(value: Any) -> str:
    return json.dumps(value, default=str)


# --- reading row values ------------------------------------------------------------------------------------


def _raw(row: dict, column: str) -> Any:
    if column.startswith("data."):
        data = row.get("data")
        return data.get(column[5:]) if isinstance(data, dict) else None
    return row.get(column)


def _aware(moment: datetime) -> datetime:
    # LS stores UTC; a naive datetime (ours or the client's) is read as UTC so the two always compare.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _as_number(value: Any) -> float | None:
    # LS casts data values to float for a Number filter; text that is a number counts, booleans do not.
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, str):
        try:
            return _aware(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def _as_boolean(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, list | tuple | set | frozenset) else []


def _as_json(value: Any) -> Any:
    return value


# A value that cannot be read as the column's kind becomes None, which then matches no comparison.
_READERS: dict[str, Callable[[Any], Any]] = {
    NUMBER: _as_number,
    DATETIME: _as_datetime,
    BOOLEAN: _as_boolean,
    STRING: _as_json,
    LIST: _as_list,
}


def _text(value: Any) -> str:
    # What Postgres' `->>` gives for a JSON value: strings bare, anything else as JSON text.
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# --- operators ---------------------------------------------------------------------------------------------


def _same(actual: Any, wanted: Any) -> bool:
    # JSON equality: true is not 1 (Python's == says it is).
    if isinstance(actual, bool) or isinstance(wanted, bool):
        return type(actual) is type(wanted) and actual == wanted
    return actual == wanted


def _between(actual: Any, bounds: tuple) -> bool:
    low, high = bounds
    return low <= actual <= high  # both ends inclusive: LS uses __gte and __lte


def _contains(actual: Any, wanted: str | tuple) -> bool:
    if isinstance(wanted, str):  # String: LS's __icontains, case-insensitive on the value's text
        return wanted.lower() in _text(actual).lower()
    return any(user in actual for user in wanted)  # annotators: any of the wanted user ids


_PREDICATES: dict[str, Callable[[Any, Any], bool]] = {
    "equal": _same,
    "not_equal": lambda actual, wanted: not _same(actual, wanted),
    "less": operator.lt,
    "greater": operator.gt,
    "less_or_equal": operator.le,
    "greater_or_equal": operator.ge,
    "in": _between,
    "not_in": lambda actual, bounds: not _between(actual, bounds),
    "in_list": lambda actual, options: any(_same(actual, o) for o in options),
    "not_in_list": lambda actual, options: not any(_same(actual, o) for o in options),
    "contains": _contains,
    "not_contains": lambda actual, wanted: not _contains(actual, wanted),
    "regex": lambda actual, pattern: pattern.search(_text(actual)),  # case-sensitive, as LS
}
OPERATORS = (*_PREDICATES, "empty")


def _is_empty(column: str, kind: str, raw: Any) -> bool:
    if column in _COUNTERS:
        return raw == 0
    if kind == LIST:
        return not raw  # no annotators
    if kind == STRING:
        return raw is None or raw == ""  # LS: for String/Unknown, empty is null or ""
    return raw is None


@dataclass(frozen=True)
class Filter:
    column: str  # a COLUMNS name, or "data.<key>"
    kind: str  # NUMBER, DATETIME, BOOLEAN, STRING or LIST
    operator: str
    value: Any  # parsed: float, datetime, bool, str, (min, max), tuple of options or user ids, UserPattern

    def matches(self, row: dict) -> bool:
        raw = _raw(row, self.column)
        if self.operator == "empty":
            return _is_empty(self.column, self.kind, raw) == self.value
        actual = _READERS[self.kind](raw)
        if actual is None:
            return False
        return _PREDICATES[self.operator](actual, self.value)


# --- the query ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    all: bool = True
    ids: frozenset[int] = frozenset()  # the excluded ids when `all`, the included ones otherwise


@dataclass(frozen=True)
class TaskQuery:
    filters: tuple[Filter, ...] = ()
    conjunction: str = "and"
    ordering: tuple[str, ...] = ()  # column names as in a row, "-" first for descending: ("-completed_at",)
    selected: Selection = Selection()

    @property
    def is_default(self) -> bool:
        """No filter, no ordering, every task: the caller may list tasks without reading them all."""
        return not self.filters and not self.ordering and self.selected == Selection()

    def matches(self, row: dict) -> bool:
        if not self.filters:
            return True
        results = (f.matches(row) for f in self.filters)
        return all(results) if self.conjunction == "and" else any(results)

    def is_selected(self, task_id: int) -> bool:
        return (task_id not in self.selected.ids) if self.selected.all else (task_id in self.selected.ids)

    def explicit_ids(self) -> list[int] | None:
        """The included ids when the selection names its tasks; None when it is everything but some."""
        return None if self.selected.all else sorted(self.selected.ids)

    def sort(self, items: Iterable, key: Callable[[Any], dict] | None = None) -> list:
        """`items` in the query's order; `key` maps an item to its row (default: items are rows).

        Ties fall back to ascending id, LS's order when there is none. A None goes last in both
        directions: LS orders with `nulls_last=True` ascending and descending alike.
        """
        row_of = key or (lambda item: item)
        ordered = list(items)
        # Stable sorts from the least significant column to the most significant one.
        for column in reversed((*self.ordering, "id")):
            name = column.removeprefix("-")
            present: list[Any] = []
            missing: list[Any] = []
            for item in ordered:
                (missing if _raw(row_of(item), name) is None else present).append(item)
            # mypy cannot type a lambda with a default (`n` binds this pass's column).
            present.sort(
                key=lambda item, n=name: _order_value(n, _raw(row_of(item), n)),  # type: ignore[misc]
                reverse=column.startswith("-"),
            )
            ordered = present + missing
        return ordered


def _order_value(column: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return _aware(value)
    if not column.startswith("data."):
        return value  # a built-in column holds one type
    # Task data can mix types: numbers first, by value, then everything else by its text.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, _text(value))


# --- parsing -----------------------------------------------------------------------------------------------


def _column(raw: Any, prefix: str, where: str) -> str:
    if not isinstance(raw, str) or not raw.startswith(prefix):
        raise _fail(where, f'expected a column like "{prefix}id", got {_show(raw)}')
    name = raw[len(prefix) :]
    if name not in COLUMNS and not (name.startswith("data.") and len(name) > len("data.")):
        raise _fail(where, f"unknown column {_show(raw)}")
    return name


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, f"expected a number, got {_show(value)}")
    return float(value)


def _datetime(value: Any, where: str) -> datetime:
    moment = _as_datetime(value) if isinstance(value, str) else None
    if moment is None:
        raise _fail(
            where, f'expected an ISO 8601 date-time like "2024-01-01T00:00:00.000Z", got {_show(value)}'
        )
    return moment


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, f"expected true or false, got {_show(value)}")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(where, f"expected a string, got {_show(value)}")
    return value


def _user_ids(value: Any, where: str) -> tuple[int, ...]:
    # One user id, or several from the DM's multi-select: the task must have any of them.
    ids = value if isinstance(value, list) else [value]
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise _fail(where, f"expected a user id or a list of user ids, got {_show(value)}")
    return tuple(ids)


def _scalar_reader(kind: str) -> Callable[[Any, str], Any]:
    return {NUMBER: _number, DATETIME: _datetime, BOOLEAN: _boolean, STRING: _string}[kind]


def _filter_value(kind: str, op: str, value: Any, where: str) -> Any:
    if op == "empty":
        return _boolean(value, where)
    if op in ("in", "not_in"):
        if not isinstance(value, dict) or "min" not in value or "max" not in value:
            raise _fail(where, f'"{op}" takes {{"min": ..., "max": ...}}, got {_show(value)}')
        read = _scalar_reader(kind)
        return read(value["min"], where + ".min"), read(value["max"], where + ".max")
    if op in ("in_list", "not_in_list"):
        if not isinstance(value, list):
            raise _fail(where, f'"{op}" takes a list, got {_show(value)}')
        if kind == NUMBER:
            return tuple(_number(v, f"{where}[{i}]") for i, v in enumerate(value))
        for i, option in enumerate(value):
            if isinstance(option, bool) or not isinstance(option, str | int | float):
                raise _fail(f"{where}[{i}]", f"expected a string or a number, got {_show(option)}")
        return tuple(value)
    if op == "regex":
        try:
            return compile_user_pattern(_string(value, where))
        except PatternRefused as exc:
            raise _fail(where, str(exc)) from None
    if kind == LIST:
        return _user_ids(value, where)
    return _scalar_reader(kind)(value, where)


def _parse_filter(item: Any, where: str) -> Filter:
    if not isinstance(item, dict):
        raise _fail(where, f"expected an object, got {_show(item)}")
    column = _column(item.get("filter"), "filter:tasks:", where + ".filter")
    op = item.get("operator")
    if not isinstance(op, str) or op not in OPERATORS:
        raise _fail(where + ".operator", f"unknown operator {_show(op)}")
    # LS always sends `type`; only a data.<key> column needs it, a built-in column has its own kind.
    declared = item.get("type")
    if isinstance(declared, dict | list):  # unhashable: `in DECLARED_TYPES` would raise
        raise _fail(where + ".type", f"expected one of {', '.join(DECLARED_TYPES)}, got {_show(declared)}")
    if declared not in DECLARED_TYPES and (declared is not None or column not in COLUMNS):
        raise _fail(
            where + ".type", f"unknown type {_show(declared)}; expected one of {', '.join(DECLARED_TYPES)}"
        )
    kind = COLUMNS.get(column) or DECLARED_TYPES[declared]
    list_op_refused = op in ("in_list", "not_in_list") and not (
        column in _LIST_OPERATOR_COLUMNS or column.startswith("data.")
    )
    if op not in OPERATORS_BY_KIND[kind] or list_op_refused:
        raise _fail(where + ".operator", f"operator {_show(op)} does not apply to {column} ({kind})")
    if item.get("child_filter") is not None:
        raise _fail(where + ".child_filter", "child filters are not supported")
    if "value" not in item or item["value"] is None:
        raise _fail(where + ".value", "a value is required")
    return Filter(column, kind, op, _filter_value(kind, op, item["value"], where + ".value"))


def _parse_filters(raw: Any) -> tuple[tuple[Filter, ...], str]:
    if raw is None:
        return (), "and"
    if not isinstance(raw, dict):
        raise _fail("filters", f'expected an object with "conjunction" and "items", got {_show(raw)}')
    conjunction = raw.get("conjunction")
    if conjunction not in ("and", "or"):
        raise _fail("filters.conjunction", f'expected "and" or "or", got {_show(conjunction)}')
    items = raw.get("items")
    if not isinstance(items, list):
        raise _fail("filters.items", f"expected a list, got {_show(items)}")
    return tuple(_parse_filter(item, f"filters.items[{i}]") for i, item in enumerate(items)), conjunction


def _parse_ordering(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _fail("ordering", f'expected a list of columns like "-tasks:id", got {_show(raw)}')
    ordering = []
    for i, entry in enumerate(raw):
        descending = isinstance(entry, str) and entry.startswith("-")
        name = _column(entry[1:] if descending else entry, "tasks:", f"ordering[{i}]")
        ordering.append(("-" if descending else "") + name)
    return tuple(ordering)


def _loads(text: str) -> Any:
    """JSON from a query string, held to what a body is (json_limits): a ValueError if not."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    try:
        check_storable(value, "query")
    except ValidationFailed as exc:
        raise ValueError(exc.errors["query"][0]) from None
    return value


def _ids(raw: Any, where: str) -> frozenset[int]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in raw):
        raise _fail(where, f"expected a list of task ids, got {_show(raw)}")
    return frozenset(raw)


def _parse_selection(raw: Any) -> Selection:
    if raw is None:
        return Selection()
    if isinstance(raw, str):  # LS also takes selectedItems as a JSON string
        try:
            raw = _loads(raw)
        except ValueError:
            raise _fail("selectedItems", f"not valid JSON: {_show(raw)}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("all"), bool):
        raise _fail(
            "selectedItems",
            f'expected {{"all": true, "excluded": [...]}} or '
            f'{{"all": false, "included": [...]}}, got {_show(raw)}',
        )
    # LS reads only the list that goes with `all`; the other is checked, then ignored.
    excluded = _ids(raw.get("excluded"), "selectedItems.excluded")
    included = _ids(raw.get("included"), "selectedItems.included")
    return Selection(all=True, ids=excluded) if raw["all"] else Selection(all=False, ids=included)


def parse_task_query(raw: dict | str | None) -> TaskQuery:
    """The query from a dict, its JSON text (as in `?query=`), or None for the default (every task)."""
    if raw is None:
        return TaskQuery()
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return TaskQuery()
        if not text.startswith("{"):
            text = unquote(text)  # LS unquotes `?query=` once more: some clients encode it twice
        try:
            raw = _loads(text)
        except json.JSONDecodeError as exc:
            raise _fail("", f"not valid JSON ({exc.msg} at position {exc.pos})") from None
        except ValueError as exc:
            raise _fail("", f"not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise _fail("", f"expected a JSON object with filters, ordering and selectedItems, got {_show(raw)}")
    filters, conjunction = _parse_filters(raw.get("filters"))
    return TaskQuery(
        filters=filters,
        conjunction=conjunction,
        ordering=_parse_ordering(raw.get("ordering")),
        selected=_parse_selection(raw.get("selectedItems")),
    )
