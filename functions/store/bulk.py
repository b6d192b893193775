"""Writing many new items: PynamoDB's own serializers, without building a Model per item.

Building a PynamoDB `Model` runs a descriptor per attribute, its defaults and a container per map; for
a task that costs more than writing it on the sqlite engine (70% of a 10,000-task import went there).
`wire_item` calls the same attribute serializers `Model.serialize()` calls, over a plain dict, and
`put_items` sends the result in BatchWriteItem requests of 25, retrying what DynamoDB leaves unprocessed
as PynamoDB's `batch_write()` does. tests/store/test_bulk.py holds the two serializations equal.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Iterable, Iterator
from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from functions.store.atomic import atomic

BATCH_SIZE = 25  # BatchWriteItem's limit
# On sqlite, this many batches share one transaction: a commit costs more than a batch, and a group still
# holds the write lock for only tens of milliseconds.
BATCHES_PER_COMMIT = 20
MAX_ATTEMPTS = 8

Item = dict[str, dict[str, Any]]


@functools.cache
def _plan(model: type[Model]) -> list[tuple[str, Any, str, str, bool, bool]]:
    """Per attribute: (name, attribute, stored name, type, is a number, is a map), looked up once."""
    return [
        (
            name,
            attribute,
            attribute.attr_name,
            attribute.attr_type,
            isinstance(attribute, NumberAttribute),
            isinstance(attribute, MapAttribute),
        )
        for name, attribute in model.get_attributes().items()
    ]


def wire_item(model: type[Model], values: dict[str, Any]) -> Item:
    """`values` (attribute name -> Python value, defaults applied for absent ones) in DynamoDB's form."""
    item: Item = {}
    for name, attribute, stored_name, kind, is_number, is_map in _plan(model):
        value = values.get(name)
        if value is None and attribute.default is not None:
            value = attribute.default() if callable(attribute.default) else attribute.default
        if value is None:
            if not attribute.null:
                raise ValueError(f"{model.__name__}.{name} is required")
            continue
        if is_number and type(value) is int:
            serialized: Any = str(value)  # what NumberAttribute's json.dumps gives, a third of the cost
        elif is_map:
            serialized = attribute.serialize(value, null_check=True)
        else:
            serialized = attribute.serialize(value)
        if serialized is not None:
            item[stored_name] = {kind: serialized}
    return item


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
    connection = model._get_connection()
    pending = chunk
    for attempt in range(MAX_ATTEMPTS):
        answer = connection.batch_write_item(put_items=pending) or {}
        unprocessed = answer.get("UnprocessedItems", {}).get(model.Meta.table_name)
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
