"""Items in DynamoDB's wire form without building a PynamoDB Model per item, both ways.

Building a PynamoDB `Model` runs a descriptor per attribute, its defaults and a container per map; for
a task that costs more than writing it on the sqlite engine (70% of a 10,000-task import went there),
and reading one back cost as much (three quarters of a 20,000-task export was `from_raw_data`).
`wire_item` calls the same attribute serializers `Model.serialize()` calls, over a plain dict, and
`put_items` sends the result in BatchWriteItem requests of 25, retrying what DynamoDB leaves unprocessed
as PynamoDB's `batch_write()` does. `plain_item` is the way back, for reads that only convert the item
into a record: the attribute values `Model.from_raw_data` would set, on a SimpleNamespace, raw maps as
dicts. tests/store/test_bulk.py holds both equal to PynamoDB's own.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import Any, NamedTuple

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection.base import BOTOCORE_EXCEPTIONS
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from functions.store.atomic import atomic

BATCH_SIZE = 25  # BatchWriteItem's limit
# On sqlite, this many batches share one transaction: a commit costs more than a batch, and a group still
# holds the write lock for only tens of milliseconds.
BATCHES_PER_COMMIT = 20
MAX_ATTEMPTS = 8

Item = dict[str, dict[str, Any]]
_PLAIN_INTEGER = re.compile(r"-?[0-9]{1,18}")


class _Field(NamedTuple):
    """One attribute of a model, looked up once: how its value is written and read."""

    name: str
    attribute: Any
    stored_name: str
    kind: str  # DynamoDB's type: S, N, M...
    write: str  # "number", "as is", "time", "map" or "serialize"
    read: str  # "number", "as is", "raw map" or "deserialize"
    default: Any
    nullable: bool


@functools.cache
def _fields(model: type[Model]) -> list[_Field]:
    fields = []
    for name, attribute in model.get_attributes().items():
        kind = type(attribute)
        plain = (
            "number"
            if kind is NumberAttribute
            else "as is"
            if kind in (UnicodeAttribute, BooleanAttribute)
            else None
        )
        write = plain or (
            "time"
            if kind is UTCDateTimeAttribute
            else "map"
            if isinstance(attribute, MapAttribute)
            else "serialize"
        )
        # Only a plain MapAttribute is read as a raw map; its subclasses deserialize into their fields.
        read = plain or ("raw map" if kind is MapAttribute else "deserialize")
        fields.append(
            _Field(
                name,
                attribute,
                attribute.attr_name,
                attribute.attr_type,
                write,
                read,
                attribute.default,
                attribute.null,
            )
        )
    return fields


def wire_item(model: type[Model], values: dict[str, Any]) -> Item:
    """`values` (attribute name -> Python value, defaults applied for absent ones) in DynamoDB's form."""
    item: Item = {}
    for name, attribute, stored_name, kind, how, _, default, nullable in _fields(model):
        value = values.get(name)
        if value is None:
            if default is None:
                if not nullable:
                    raise ValueError(f"{model.__name__}.{name} is required")
                continue
            value = default() if callable(default) else default
        if how == "number" and type(value) is int:
            serialized: Any = str(value)  # what NumberAttribute's json.dumps gives, a third of the cost
        elif how == "as is" and type(value) in (str, bool):
            serialized = value  # what UnicodeAttribute and BooleanAttribute give
        elif how == "time" and type(value) is datetime:
            serialized = _serialized_time(value)
        elif how == "map":
            serialized = attribute.serialize(value, null_check=True)
        else:
            serialized = attribute.serialize(value)
        if serialized is not None:
            item[stored_name] = {kind: serialized}
    return item


@functools.lru_cache(maxsize=64)
def _serialized_time(value: datetime) -> str:
    """`UTCDateTimeAttribute.serialize`, remembered: the tasks of one import share their times, and
    strftime cost a tenth of writing them."""
    return UTCDateTimeAttribute().serialize(value)


def plain_item(model: type[Model], item: Item) -> SimpleNamespace:
    """An item as read (DynamoDB's form) into its attribute values, absent ones at their defaults."""
    values: dict[str, Any] = {}
    for name, attribute, stored_name, kind, _, how, default, _ in _fields(model):
        typed = item.get(stored_name)
        raw = None if typed is None else typed.get(kind)
        if raw is None:
            values[name] = default() if callable(default) else default
        elif how == "number":
            values[name] = int(raw) if _PLAIN_INTEGER.fullmatch(raw) else json.loads(raw)
        elif how == "as is":
            values[name] = raw
        elif how == "raw map":
            values[name] = {key: plain_value(value) for key, value in raw.items()}
        else:
            values[name] = attribute.deserialize(raw)
    return SimpleNamespace(**values)


def plain_value(typed: dict[str, Any]) -> Any:
    """A value of a raw map (DynamoDB's form) as PynamoDB reads it: numbers as int or float, not Decimal."""
    ((kind, raw),) = typed.items()
    if kind == "S" or kind == "BOOL":
        return raw
    if kind == "N":
        return int(raw) if _PLAIN_INTEGER.fullmatch(raw) else json.loads(raw)
    if kind == "M":
        return {key: plain_value(value) for key, value in raw.items()}
    if kind == "L":
        return [plain_value(value) for value in raw]
    if kind == "NULL":
        return None
    if kind == "B":
        return raw
    if kind == "SS":
        return set(raw)
    if kind == "NS":
        return {plain_value({"N": number}) for number in raw}
    raise ValueError(f"a map value of type {kind} is not read here")


def put_items(model: type[Model], items: Iterable[Item]) -> int:
    """Write `items` (from `wire_item`) with BatchWriteItem; returns how many were written."""
    written = 0
    for group in _batched(items, BATCH_SIZE * BATCHES_PER_COMMIT):
        with atomic():
            for chunk in _batched(group, BATCH_SIZE):
                _write_chunk(model, chunk)
        written += len(group)
    return written


def _write_chunk(model: type[Model], chunk: list[Item]) -> None:
    # The request built here rather than by `batch_write_item`, which copies every attribute of every
    # item into a new map to find it already typed (5% of an import on the sqlite engine).
    connection = model._get_connection().connection
    table = model.Meta.table_name
    pending = chunk
    for attempt in range(MAX_ATTEMPTS):
        request = {"RequestItems": {table: [{"PutRequest": {"Item": item}} for item in pending]}}
        try:
            answer = connection.dispatch("BatchWriteItem", request) or {}
        except BOTOCORE_EXCEPTIONS as exc:
            raise PutError(f"Failed to batch write items: {exc}", exc) from exc
        unprocessed = answer.get("UnprocessedItems", {}).get(table)
        if not unprocessed:
            return
        pending = [request["PutRequest"]["Item"] for request in unprocessed]
        time.sleep(min(0.05 * 2**attempt, 1.0))
    raise PutError(f"{len(pending)} items of a batch write stayed unprocessed")


def _batched(values: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """itertools.batched, which Python 3.11 lacks."""
    iterator = iter(values)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
