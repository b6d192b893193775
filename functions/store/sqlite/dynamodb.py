"""DynamoDB's operations answered from SQLite, in this process: the `sqlite` engine's tables.

PynamoDB hands every call to its connection's botocore client as `_make_api_call(operation, kwargs)`, with
the items already in DynamoDB's typed JSON. `SqliteDynamoDB` takes that client's place, so the store's
modules and models run unchanged on either engine: one schema (the models), one set of store functions,
two places the data can live. What makes it fast where the emulator was slow:

- a query reads one range of an index (`items` by table key, `index_entries` by index key), never the
  whole table, and there is no HTTP, no botocore serialization and no signing per call;
- a write is one SQLite transaction holding the write lock (`BEGIN IMMEDIATE`): the condition is checked
  and the item, its index entries and its stream record are written atomically, so leases, counters and
  TransactWriteItems behave as DynamoDB's do.

Semantics follow DynamoDB where the store relies on them: conditional writes, update expressions, sparse
global secondary indexes with their projections, Limit counted before the filter, LastEvaluatedKey,
BatchGetItem/BatchWriteItem, transactions with cancellation reasons, TTL, and the table's stream (old and
new image) as rows of `changes`. Pages stop at about 1 MB, as DynamoDB's do, so memory stays bounded.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Generator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from functions.store.sqlite import expressions
from functions.store.sqlite.database import Database

Item = dict[str, dict]

ITEM_BYTES_LIMIT = 400 * 1024
PAGE_BYTES = 1024 * 1024
NO_RANGE = ""  # the range-key column's value for tables and indexes without a range key


def error(operation: str, code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


_PLAIN_INTEGER = re.compile(r"-?[0-9]{1,18}")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def column(value: dict) -> Any:
    """A key attribute's typed value as the SQLite value that sorts as DynamoDB sorts it."""
    ((kind, raw),) = value.items()
    if kind == "N":
        if _PLAIN_INTEGER.fullmatch(raw):
            return int(raw)  # ids and counts: Decimal's round trip gives the same, ten times slower
        number = Decimal(raw)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "S":
        return raw
    if kind == "B":
        return raw.encode() if isinstance(raw, str) else bytes(raw)
    raise ValueError(f"a key attribute must be a string, number or binary, not {kind}")


def typed(kind: str, value: Any) -> dict:
    """The inverse of `column` for a key attribute of type `kind`."""
    if kind == "N":
        return {"N": str(value) if isinstance(value, int) else repr(value)}
    if kind == "B":
        return {"B": value.decode() if isinstance(value, bytes) else value}
    return {kind: value}


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str | None
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    include: frozenset[str]


@dataclass(frozen=True)
class Table:
    """A table as its CreateTable request declared it."""

    name: str
    definition: dict
    hash_key: str
    range_key: str | None
    types: dict[str, str]
    indexes: dict[str, Index]
    stream_view: str | None
    ttl_attribute: str | None

    @classmethod
    def from_definition(cls, definition: dict, ttl_attribute: str | None) -> Table:
        def keys(schema: list[dict]) -> tuple[str, str | None]:
            hash_key = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
            range_key = next((k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"), None)
            return hash_key, range_key

        hash_key, range_key = keys(definition["KeySchema"])
        indexes = {}
        for gsi in definition.get("GlobalSecondaryIndexes", []) + definition.get("LocalSecondaryIndexes", []):
            index_hash, index_range = keys(gsi["KeySchema"])
            projection = gsi.get("Projection", {})
            indexes[gsi["IndexName"]] = Index(
                gsi["IndexName"],
                index_hash,
                index_range,
                projection.get("ProjectionType", "ALL"),
                frozenset(projection.get("NonKeyAttributes", ())),
            )
        stream = definition.get("StreamSpecification") or {}
        return cls(
            name=definition["TableName"],
            definition=definition,
            hash_key=hash_key,
            range_key=range_key,
            types={a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]},
            indexes=indexes,
            stream_view=stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
            ttl_attribute=ttl_attribute,
        )

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.hash_key, self.range_key) if self.range_key else (self.hash_key,)

    def row_key(self, key: Item, operation: str) -> tuple[Any, Any]:
        """(hash, range) columns of a Key or an Item; a ValidationException if a key attribute is wrong."""
        try:
            hash_value = column(key[self.hash_key])
            range_value = column(key[self.range_key]) if self.range_key else NO_RANGE
        except (KeyError, ValueError, StopIteration):
            raise error(
                operation, "ValidationException", "The provided key element does not match the schema"
            ) from None
        for name in self.key_names:
            if next(iter(key[name])) != self.types.get(name, next(iter(key[name]))):
                raise error(
                    operation, "ValidationException", "The provided key element does not match the schema"
                )
        return hash_value, range_value

    def index_key(self, index: Index, item: Item) -> tuple[Any, Any] | None:
        """The item's (hash, range) in `index`, or None when the item is not in it (a sparse index)."""
        hash_attr = item.get(index.hash_key)
        if hash_attr is None or self.types.get(index.hash_key) not in hash_attr:
            return None
        if index.range_key is None:
            return column(hash_attr), NO_RANGE
        range_attr = item.get(index.range_key)
        if range_attr is None or self.types.get(index.range_key) not in range_attr:
            return None
        return column(hash_attr), column(range_attr)

    def projected_names(self, index: Index | None) -> frozenset[str] | None:
        """The attributes an index holds; None for all of them."""
        if index is None or index.projection == "ALL":
            return None
        keep = {*self.key_names, index.hash_key, *((index.range_key,) if index.range_key else ())}
        if index.projection == "INCLUDE":
            keep |= index.include
        return frozenset(keep)

    def key_of(self, item: Item, index: Index | None = None) -> Item:
        names = list(self.key_names)
        if index is not None:
            names += [index.hash_key] + ([index.range_key] if index.range_key else [])
        return {n: item[n] for n in names if n in item}


def _check_number(text: str) -> None:
    """DynamoDB's number checks; an integer of up to 38 digits (ids, counts, times) passes at a glance."""
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isdigit() and digits.isascii() and len(digits) <= 38):
        expressions.canonical_number(text)


# In an item's JSON text (typed values: {"N":"12"}) quotes inside strings are escaped, and a name or a
# typed value starts right after `{` or `,`: so these find exactly the item's numbers that are not plain
# integers, its number sets, and an empty attribute name.
_UNUSUAL_NUMBER = re.compile(r'\{"N":"(?!-?[0-9]{1,38}")([^"]*)"')
_NUMBER_SET = re.compile(r'\{"NS":\[([^\]]*)\]')
_EMPTY_NAME = re.compile(r'[{,]"":')


def _refuse_unstorable_text(doc: str) -> None:
    """`SqliteDynamoDB._refuse_unstorable` for a new item, on its JSON text: one regex pass instead of a
    walk over every attribute (a 10,000-task import spent a fifth of its time walking)."""
    if _EMPTY_NAME.search(doc):
        raise error(
            "PutItem",
            "ValidationException",
            "One or more parameter values were invalid: Empty attribute name",
        )
    numbers = _UNUSUAL_NUMBER.findall(doc)
    for number_set in _NUMBER_SET.findall(doc):
        numbers += json.loads(f"[{number_set}]")
    try:
        for number in numbers:
            _check_number(number)
    except expressions.ExpressionError as exc:
        raise error("PutItem", "ValidationException", str(exc)) from None


@functools.cache
def _method_name(operation: str) -> str:
    """ "PutItem" -> "_op_put_item"."""
    return "_op_" + re.sub(r"(?<!^)([A-Z])", r"_\1", operation).lower()


class SqliteDynamoDB:
    """Stands in for PynamoDB's botocore DynamoDB client (`Connection._client`)."""

    _request_signer = None  # PynamoDB re-creates a client whose signer has no credentials

    def __init__(self, database: Database, region: str = "local"):
        self.db = database
        self.region = region
        self._tables: dict[str, Table] = {}

    # --- dispatch -----------------------------------------------------------------------------------

    def __getattr__(self, name: str):
        """boto3's calling style (`put_item(TableName=...)`), which Powertools' idempotency layer uses."""
        operation = "".join(part.title() for part in name.split("_"))
        if name.startswith("_") or not hasattr(type(self), _method_name(operation)):
            raise AttributeError(name)
        return lambda **kwargs: self._make_api_call(operation, kwargs)

    def _make_api_call(self, operation: str, kwargs: dict) -> dict:
        handler = getattr(self, _method_name(operation), None)
        if handler is None:
            raise error(operation, "UnknownOperationException", f"{operation} is not supported locally")
        try:
            return handler(operation, kwargs)
        except expressions.ExpressionError as exc:
            raise error(operation, "ValidationException", str(exc)) from None

    def table(self, name: str, operation: str) -> Table:
        table = self._tables.get(name)
        if table is None:
            row = (
                self.db.connection()
                .execute("SELECT definition, ttl_attribute FROM tables WHERE name = ?", (name,))
                .fetchone()
            )
            if row is None:
                raise error(operation, "ResourceNotFoundException", f"Requested resource not found: {name}")
            table = Table.from_definition(json.loads(row[0]), row[1])
            self._tables[name] = table
        return table

    # --- tables -------------------------------------------------------------------------------------

    def _op_create_table(self, op: str, kw: dict) -> dict:
        definition = {
            k: kw[k]
            for k in (
                "TableName",
                "KeySchema",
                "AttributeDefinitions",
                "GlobalSecondaryIndexes",
                "LocalSecondaryIndexes",
                "StreamSpecification",
            )
            if k in kw
        }
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM tables WHERE name = ?", (kw["TableName"],)).fetchone():
                raise error(op, "ResourceInUseException", f"Table already exists: {kw['TableName']}")
            conn.execute(
                "INSERT INTO tables (name, definition) VALUES (?, ?)", (kw["TableName"], _dumps(definition))
            )
        return {"TableDescription": self._description(Table.from_definition(definition, None))}

    def _description(self, table: Table) -> dict:
        description: dict[str, Any] = {
            **table.definition,
            "TableStatus": "ACTIVE",
            "TableArn": f"arn:aws:dynamodb:{self.region}:000000000000:table/{table.name}",
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        }
        if "GlobalSecondaryIndexes" in description:
            description["GlobalSecondaryIndexes"] = [
                {**gsi, "IndexStatus": "ACTIVE"} for gsi in description["GlobalSecondaryIndexes"]
            ]
        if table.stream_view:
            description["LatestStreamArn"] = f"{description['TableArn']}/stream/local"
        return description

    def _op_describe_table(self, op: str, kw: dict) -> dict:
        return {"Table": self._description(self.table(kw["TableName"], op))}

    def _op_list_tables(self, op: str, kw: dict) -> dict:
        rows = self.db.connection().execute("SELECT name FROM tables ORDER BY name").fetchall()
        return {"TableNames": [r[0] for r in rows]}

    def _op_delete_table(self, op: str, kw: dict) -> dict:
        table = self.table(kw["TableName"], op)
        with self.db.write() as conn:
            for statement in ("items", "index_entries", "changes"):
                conn.execute(f"DELETE FROM {statement} WHERE tbl = ?", (table.name,))  # noqa: S608 -- fixed names
            conn.execute("DELETE FROM tables WHERE name = ?", (table.name,))
        self._tables.pop(table.name, None)
        return {"TableDescription": self._description(table)}

    def _op_update_time_to_live(self, op: str, kw: dict) -> dict:
        table = self.table(kw["TableName"], op)
        spec = kw["TimeToLiveSpecification"]
        with self.db.write() as conn:
            conn.execute(
                "UPDATE tables SET ttl_attribute = ? WHERE name = ?",
                (spec["AttributeName"] if spec.get("Enabled") else None, table.name),
            )
        self._tables.pop(table.name, None)
        return {"TimeToLiveSpecification": spec}

    def _op_describe_time_to_live(self, op: str, kw: dict) -> dict:
        table = self.table(kw["TableName"], op)
        if table.ttl_attribute:
            return {
                "TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": table.ttl_attribute}
            }
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}

    def _op_update_table(self, op: str, kw: dict) -> dict:
        return {"TableDescription": self._description(self.table(kw["TableName"], op))}

    # --- one item -----------------------------------------------------------------------------------

    @staticmethod
    def _refuse_unstorable(old: Item | None, new: Item) -> None:
        """DynamoDB's checks on the values a write sends: no empty attribute name (a map's keys included,
        at any depth) and only numbers it can store. Refused here too, so code that passes on this engine
        does not fail on AWS. Attributes the write leaves as they were are not looked at again."""
        old = old or {}
        pending: list[tuple[str, dict]] = [(k, v) for k, v in new.items() if old.get(k) != v]
        while pending:
            name, value = pending.pop()
            if name == "":
                raise error(
                    "PutItem",
                    "ValidationException",
                    "One or more parameter values were invalid: Empty attribute name",
                )
            ((kind, raw),) = value.items()
            try:
                if kind == "N":
                    _check_number(raw)
                elif kind == "NS":
                    for number in raw:
                        _check_number(number)
            except expressions.ExpressionError as exc:
                raise error("PutItem", "ValidationException", str(exc)) from None
            if kind == "M":
                pending.extend(raw.items())
            elif kind == "L":
                pending.extend(("[]", element) for element in raw)

    def _read(self, conn, table: Table, row_key: tuple[Any, Any]) -> Item | None:
        row = conn.execute(
            "SELECT doc FROM items WHERE tbl = ? AND hk = ? AND rk = ?", (table.name, *row_key)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def _read_many(self, conn, table: Table, row_keys: list[tuple[Any, Any]]) -> dict[tuple, Item]:
        if not row_keys:
            return {}
        # ORed point lookups: SQLite answers each from the primary key (a row-value IN would scan).
        rows = conn.execute(
            "SELECT hk, rk, doc FROM items WHERE "  # noqa: S608 -- only placeholders are joined
            + " OR ".join("(tbl = ? AND hk = ? AND rk = ?)" for _ in row_keys),
            tuple(part for key in row_keys for part in (table.name, *key)),
        ).fetchall()
        return {(hk, rk): json.loads(doc) for hk, rk, doc in rows}

    def _store(
        self, conn, table: Table, row_key: tuple[Any, Any], old: Item | None, new: Item | None
    ) -> None:
        """Write `new` over `old` (None: absent) with its index entries and stream record."""
        self._store_many(conn, table, [(row_key, old, new)])

    def _store_many(
        self, conn, table: Table, writes: list[tuple[tuple[Any, Any], Item | None, Item | None]]
    ) -> None:
        """`_store` for many items, one statement per kind of row (a batch write's 25 items in 4)."""
        removed, upserted, entries_removed, entries_added = [], [], [], []
        for row_key, old, new in writes:
            if new is None:
                removed.append((table.name, *row_key))
            else:
                doc = _dumps(new)
                if old is None:
                    _refuse_unstorable_text(doc)
                else:
                    self._refuse_unstorable(old, new)
                if len(doc) > ITEM_BYTES_LIMIT:
                    raise error(
                        "PutItem", "ValidationException", "Item size has exceeded the maximum allowed size"
                    )
                expires = None
                if table.ttl_attribute and "N" in new.get(table.ttl_attribute, {}):
                    expires = float(new[table.ttl_attribute]["N"])
                upserted.append((table.name, *row_key, doc, expires))
            for index in table.indexes.values():
                before = table.index_key(index, old) if old is not None else None
                after = table.index_key(index, new) if new is not None else None
                if before == after:
                    continue
                if before is not None:
                    entries_removed.append((table.name, index.name, *before, *row_key))
                if after is not None:
                    entries_added.append((table.name, index.name, *after, *row_key))
            if table.stream_view and old != new:
                self._record_change(conn, table, old, new)
        if removed:
            conn.executemany("DELETE FROM items WHERE tbl = ? AND hk = ? AND rk = ?", removed)
        if upserted:
            conn.executemany(
                "INSERT OR REPLACE INTO items (tbl, hk, rk, doc, expires) VALUES (?, ?, ?, ?, ?)", upserted
            )
        if entries_removed:
            conn.executemany(
                "DELETE FROM index_entries WHERE tbl = ? AND idx = ? AND hk = ? AND rk = ? "
                "AND item_hk = ? AND item_rk = ?",
                entries_removed,
            )
        if entries_added:
            conn.executemany(
                "INSERT OR REPLACE INTO index_entries (tbl, idx, hk, rk, item_hk, item_rk) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                entries_added,
            )

    def _record_change(self, conn, table: Table, old: Item | None, new: Item | None) -> None:
        event = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        keys = table.key_of(new if new is not None else old or {})
        view = table.stream_view or ""
        conn.execute(
            "INSERT INTO changes (tbl, event, keys, old, new, at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                table.name,
                event,
                _dumps(keys),
                _dumps(old) if old is not None and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") else None,
                _dumps(new) if new is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") else None,
                time.time(),
            ),
        )

    @staticmethod
    def _check(op: str, kw: dict, item: Item | None) -> None:
        condition = kw.get("ConditionExpression")
        if condition and not expressions.condition_holds(
            condition, item, kw.get("ExpressionAttributeNames"), kw.get("ExpressionAttributeValues")
        ):
            failed = error(op, "ConditionalCheckFailedException", "The conditional request failed")
            if kw.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and item is not None:
                failed.response["Item"] = item
            raise failed

    def _put(self, conn, op: str, kw: dict) -> tuple[Item | None, Item]:
        table = self.table(kw["TableName"], op)
        item = kw["Item"]
        row_key = table.row_key(item, op)
        old = self._read(conn, table, row_key)
        self._check(op, kw, old)
        self._store(conn, table, row_key, old, item)
        return old, item

    def _update(self, conn, op: str, kw: dict) -> tuple[Item | None, Item]:
        table = self.table(kw["TableName"], op)
        key = kw["Key"]
        row_key = table.row_key(key, op)
        old = self._read(conn, table, row_key)
        self._check(op, kw, old)
        new = dict(old) if old is not None else dict(key)
        if kw.get("UpdateExpression"):
            new = expressions.apply_update(
                kw["UpdateExpression"],
                new,
                kw.get("ExpressionAttributeNames"),
                kw.get("ExpressionAttributeValues"),
            )
        for name in table.key_names:
            if new.get(name) != key[name]:
                raise error(
                    op,
                    "ValidationException",
                    f"Cannot update attribute {name}. This attribute is part of the key",
                )
        self._store(conn, table, row_key, old, new)
        return old, new

    def _delete(self, conn, op: str, kw: dict) -> Item | None:
        table = self.table(kw["TableName"], op)
        row_key = table.row_key(kw["Key"], op)
        old = self._read(conn, table, row_key)
        self._check(op, kw, old)
        if old is not None:
            self._store(conn, table, row_key, old, None)
        return old

    def _op_get_item(self, op: str, kw: dict) -> dict:
        table = self.table(kw["TableName"], op)
        item = self._read(self.db.connection(), table, table.row_key(kw["Key"], op))
        if item is None:
            return {}
        return {"Item": self._projected(kw, item)}

    @staticmethod
    def _projected(kw: dict, item: Item) -> Item:
        if kw.get("ProjectionExpression"):
            return expressions.project(kw["ProjectionExpression"], item, kw.get("ExpressionAttributeNames"))
        return item

    def _op_put_item(self, op: str, kw: dict) -> dict:
        with self.db.write() as conn:
            old, _ = self._put(conn, op, kw)
        return {"Attributes": old} if kw.get("ReturnValues") == "ALL_OLD" and old else {}

    def _op_update_item(self, op: str, kw: dict) -> dict:
        with self.db.write() as conn:
            old, new = self._update(conn, op, kw)
        returned = kw.get("ReturnValues", "NONE")
        if returned == "ALL_NEW":
            return {"Attributes": new}
        if returned == "ALL_OLD":
            return {"Attributes": old} if old else {}
        if returned in ("UPDATED_NEW", "UPDATED_OLD"):
            source = new if returned == "UPDATED_NEW" else old or {}
            changed = {k for k in set(new) | set(old or {}) if new.get(k) != (old or {}).get(k)}
            return {"Attributes": {k: v for k, v in source.items() if k in changed}}
        return {}

    def _op_delete_item(self, op: str, kw: dict) -> dict:
        with self.db.write() as conn:
            old = self._delete(conn, op, kw)
        return {"Attributes": old} if kw.get("ReturnValues") == "ALL_OLD" and old else {}

    # --- many items ---------------------------------------------------------------------------------

    def _op_batch_get_item(self, op: str, kw: dict) -> dict:
        conn = self.db.connection()
        responses: dict[str, list[Item]] = {}
        for table_name, request in kw["RequestItems"].items():
            table = self.table(table_name, op)
            found = responses.setdefault(table_name, [])
            for key in request["Keys"]:
                item = self._read(conn, table, table.row_key(key, op))
                if item is not None:
                    found.append(self._projected(request, item))
        return {"Responses": responses, "UnprocessedKeys": {}}

    def _op_batch_write_item(self, op: str, kw: dict) -> dict:
        """Puts and deletes without conditions: each table's items read in one statement, written in
        four (`_store_many`)."""
        with self.db.write() as conn:
            for table_name, requests in kw["RequestItems"].items():
                table = self.table(table_name, op)
                targets = []
                for request in requests:
                    put = request.get("PutRequest")
                    item = put["Item"] if put else None
                    key = item if item is not None else request["DeleteRequest"]["Key"]
                    targets.append((table.row_key(key, op), item))
                if len({row_key for row_key, _ in targets}) != len(targets):
                    raise error(op, "ValidationException", "Provided list of item keys contains duplicates")
                olds = self._read_many(conn, table, [row_key for row_key, _ in targets])
                self._store_many(
                    conn,
                    table,
                    [
                        (row_key, olds.get(row_key), item)
                        for row_key, item in targets
                        if item is not None or row_key in olds
                    ],
                )
        return {"UnprocessedItems": {}}

    def _op_transact_write_items(self, op: str, kw: dict) -> dict:
        actions = kw["TransactItems"]
        reasons: list[dict] = []
        failed = False
        with self.db.write() as conn:
            conn.execute("SAVEPOINT transact")
            for action in actions:
                ((kind, body),) = action.items()
                try:
                    if kind == "Put":
                        self._put(conn, op, body)
                    elif kind == "Update":
                        self._update(conn, op, body)
                    elif kind == "Delete":
                        self._delete(conn, op, body)
                    else:  # ConditionCheck
                        table = self.table(body["TableName"], op)
                        self._check(op, body, self._read(conn, table, table.row_key(body["Key"], op)))
                    reasons.append({"Code": "None"})
                except ClientError as exc:
                    failed = True
                    code = exc.response["Error"]["Code"]
                    reasons.append(
                        {"Code": code.replace("Exception", ""), "Message": exc.response["Error"]["Message"]}
                    )
            conn.execute("ROLLBACK TO transact" if failed else "RELEASE transact")
            if failed:
                conn.execute("RELEASE transact")
        if failed:
            raise ClientError(
                {
                    "Error": {
                        "Code": "TransactionCanceledException",
                        "Message": "Transaction cancelled, please refer cancellation reasons for specific "
                        "reasons "
                        f"[{', '.join(r['Code'] for r in reasons)}]",
                    },
                    "CancellationReasons": reasons,
                },
                op,
            )
        return {}

    def _op_transact_get_items(self, op: str, kw: dict) -> dict:
        answers = []
        for action in kw["TransactItems"]:
            answers.append(self._op_get_item(op, action["Get"]))
        return {"Responses": answers}

    # --- reading ranges -----------------------------------------------------------------------------

    def _op_query(self, op: str, kw: dict) -> dict:
        table = self.table(kw["TableName"], op)
        index = self._index(table, kw, op)
        condition = expressions.key_condition(
            kw["KeyConditionExpression"],
            kw.get("ExpressionAttributeNames"),
            kw.get("ExpressionAttributeValues"),
        )
        hash_name = index.hash_key if index else table.hash_key
        range_name = (index.range_key if index else table.range_key) or None
        if condition.hash_name != hash_name or (condition.range_name and condition.range_name != range_name):
            raise error(op, "ValidationException", "Query condition missed key schema element")
        where = ["hk = ?"]
        params: list[Any] = [column(condition.hash_value)]
        if condition.range_op:
            values = [column(v) for v in condition.range_values]
            if condition.range_op == "BETWEEN":
                where.append("rk BETWEEN ? AND ?")
                params += values
            elif condition.range_op == "begins_with":
                where.append("rk >= ? AND substr(rk, 1, length(?)) = ?")
                params += [values[0], values[0], values[0]]
            else:
                where.append(f"rk {condition.range_op} ?")
                params.append(values[0])
        return self._page(op, table, index, kw, where, params, forward=kw.get("ScanIndexForward", True))

    def _op_scan(self, op: str, kw: dict) -> dict:
        table = self.table(kw["TableName"], op)
        index = self._index(table, kw, op)
        if kw.get("Segment", 0) != 0:  # one segment holds everything
            return {"Items": [], "Count": 0, "ScannedCount": 0}
        return self._page(op, table, index, kw, [], [], forward=True, scan=True)

    @staticmethod
    def _index(table: Table, kw: dict, op: str) -> Index | None:
        name = kw.get("IndexName")
        if name is None:
            return None
        if name not in table.indexes:
            raise error(op, "ValidationException", f"The table does not have the specified index: {name}")
        return table.indexes[name]

    def _rows(
        self,
        table: Table,
        index: Index | None,
        where: list[str],
        params: list[Any],
        start: Item | None,
        forward: bool,
        scan: bool,
        with_doc: bool,
    ) -> Generator[tuple[Any, ...], None, None]:
        """(doc, hk, rk[, item_hk, item_rk]) rows in the order of the table or index, after `start`;
        without `with_doc`, doc is NULL and an index is read without touching the items. The doc of an
        index that projects some attributes holds only those: SQLite cuts them out of the stored JSON,
        so Python parses a few attributes instead of the whole item (a task's data, for one)."""
        direction = "" if forward else " DESC"
        keep = sorted(table.projected_names(index) or ())
        doc = "i.doc"
        doc_args: list[Any] = []
        if keep:
            # Bound names and paths: json_object(name, doc -> path, ...); a missing one comes back null.
            doc = f"json_object({', '.join('?, i.doc -> ?' for _ in keep)})"
            doc_args = [part for name in keep for part in (name, f'$."{name}"')]
        after = ">" if forward else "<"
        conditions = [f"{'e' if index else 'i'}.tbl = ?", *where]
        args: list[Any] = [table.name, *params]
        order: tuple[str, ...]
        if index is None:
            order = ("hk", "rk") if scan else ("rk",)
            if start is not None:
                start_key = table.row_key(start, "Query")
                if scan:
                    conditions.append(f"(hk, rk) {after} (?, ?)")
                    args += list(start_key)
                else:
                    conditions.append(f"rk {after} ?")
                    args.append(start_key[1])
            sql = (
                f"SELECT {'doc' if with_doc else 'NULL'}, hk, rk FROM items i "  # noqa: S608 -- no user text
                f"WHERE {' AND '.join(conditions)} "
                f"ORDER BY {', '.join(c + direction for c in order)}"
            )
        else:
            conditions = [c.replace("hk", "e.hk").replace("rk", "e.rk") for c in conditions]
            conditions.append("e.idx = ?")
            args.append(index.name)
            order = ("e.hk", "e.rk", "e.item_hk", "e.item_rk") if scan else ("e.rk", "e.item_hk", "e.item_rk")
            if start is not None:
                item_key = table.row_key(start, "Query")
                position = table.index_key(index, start)
                if position is None:
                    raise error("Query", "ValidationException", "The provided starting key is invalid")
                columns = order
                values = list(position if scan else position[1:]) + list(item_key)
                conditions.append(f"({', '.join(columns)}) {after} ({', '.join('?' * len(values))})")
                args += values
            join = (
                "JOIN items i ON i.tbl = e.tbl AND i.hk = e.item_hk AND i.rk = e.item_rk " if with_doc else ""
            )
            sql = (
                f"SELECT {doc if with_doc else 'NULL'}, e.hk, e.rk, e.item_hk, e.item_rk "  # noqa: S608
                f"FROM index_entries e {join}"
                f"WHERE {' AND '.join(conditions)} ORDER BY {', '.join(c + direction for c in order)}"
            )
            if with_doc:
                args = doc_args + args
        yield from self.db.connection().execute(sql, args)

    def _page(
        self,
        op: str,
        table: Table,
        index: Index | None,
        kw: dict,
        where: list[str],
        params: list[Any],
        *,
        forward: bool,
        scan: bool = False,
    ) -> dict:
        limit = kw.get("Limit")
        names, values = kw.get("ExpressionAttributeNames"), kw.get("ExpressionAttributeValues")
        count_only = kw.get("Select") == "COUNT"
        keys_only = count_only and not kw.get("FilterExpression")
        rows = self._rows(
            table, index, where, params, kw.get("ExclusiveStartKey"), forward, scan, not keys_only
        )
        projected = index is not None and table.projected_names(index) is not None
        items: list[Item] = []
        counted = evaluated = size = 0
        last: tuple[Any, ...] | None = None
        more = False
        try:
            for row in rows:
                if (limit is not None and evaluated >= limit) or size >= PAGE_BYTES:
                    more = True
                    break
                evaluated += 1
                last = row
                if keys_only:
                    counted += 1
                    continue
                size += len(row[0])
                item = json.loads(row[0])
                if projected:
                    item = {name: value for name, value in item.items() if value is not None}
                if kw.get("FilterExpression") and not expressions.condition_holds(
                    kw["FilterExpression"], item, names, values
                ):
                    continue
                counted += 1
                if not count_only:
                    items.append(self._projected(kw, item))
        finally:
            rows.close()
        answer: dict[str, Any] = {"Count": counted, "ScannedCount": evaluated}
        if not count_only:
            answer["Items"] = items
        if more and last is not None:
            answer["LastEvaluatedKey"] = self._position(table, index, last)
        return answer

    @staticmethod
    def _position(table: Table, index: Index | None, row: tuple[Any, ...]) -> Item:
        """LastEvaluatedKey from a row's key columns: the table's key, and the index's when reading one."""
        item_hk, item_rk = (row[3], row[4]) if index is not None else (row[1], row[2])
        key = {table.hash_key: typed(table.types[table.hash_key], item_hk)}
        if table.range_key:
            key[table.range_key] = typed(table.types[table.range_key], item_rk)
        if index is not None:
            key[index.hash_key] = typed(table.types[index.hash_key], row[1])
            if index.range_key:
                key[index.range_key] = typed(table.types[index.range_key], row[2])
        return key
