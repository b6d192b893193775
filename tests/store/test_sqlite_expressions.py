"""The sqlite engine's DynamoDB expressions, checked against moto's DynamoDB: the same item, the same
expression, the same answer. The expressions are the ones PynamoDB builds for our store modules, plus a
spread of hand-written ones over the rest of the grammar. Where moto differs from DynamoDB's documented
behaviour (number forms, list appends, validation it skips, a few crashes), the direct tests at the end
say what DynamoDB does."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Update

from functions.store import tasks as task_store
from functions.store.models import (
    Counter,
    ExportSnapshotModel,
    MLBackendModel,
    MLEndpointModel,
    ProjectModel,
    StorageModel,
    TaskModel,
)
from functions.store.sqlite.expressions import (
    ExpressionError,
    KeyCondition,
    apply_update,
    canonical_number,
    compare_values,
    condition_holds,
    key_condition,
    placeholders_used,
    project,
)


def N(value) -> dict:  # noqa: N802 -- reads like the AttributeValue it builds
    return {"N": str(value)}


def S(value: str) -> dict:  # noqa: N802
    return {"S": value}


def NS(*values) -> dict:  # noqa: N802
    return {"NS": [str(v) for v in values]}


def SS(*values: str) -> dict:  # noqa: N802
    return {"SS": list(values)}


def L(*values: dict) -> dict:  # noqa: N802
    return {"L": list(values)}


def M(**values: dict) -> dict:  # noqa: N802
    return {"M": values}


TRUE, FALSE, NULL = {"BOOL": True}, {"BOOL": False}, {"NULL": True}


# --- moto ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dynamodb():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for table in ("things", "filtered"):
            client.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
                BillingMode="PAY_PER_REQUEST",
            )
        for kind in "NSB":
            client.create_table(
                TableName=f"sorted-{kind}",
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": kind},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        yield client


def _placeholders(names, values) -> dict:
    return {
        **({"ExpressionAttributeNames": names} if names else {}),
        **({"ExpressionAttributeValues": values} if values else {}),
    }


def _moto(call):
    """moto's answer to `call()`: its response, False for a failed condition, "invalid" for a
    ValidationException."""
    try:
        return call()
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code == "ConditionalCheckFailedException":
            return False
        if code == "ValidationException":
            return "invalid"
        raise


def _ours(call):
    """Our answer to `call()`, "invalid" for an ExpressionError."""
    try:
        return call()
    except ExpressionError:
        return "invalid"


def _canon(value: dict):
    """A value with what DynamoDB leaves unordered or unnormalized made comparable: numbers by value, sets
    in any order (moto keeps numbers as sent, "1.50", and sets in insertion order)."""
    ((tag, inner),) = value.items()
    if tag == "N":
        return tag, Decimal(inner)
    if tag == "NS":
        return tag, frozenset(Decimal(v) for v in inner)
    if tag in ("SS", "BS"):
        return tag, frozenset(inner)
    if tag == "L":
        return tag, tuple(_canon(v) for v in inner)
    if tag == "M":
        return tag, {k: _canon(v) for k, v in inner.items()}
    return tag, inner


def _canon_item(item: dict | None) -> dict | None:
    return None if item is None else {name: _canon(value) for name, value in item.items()}


def moto_update(client, item, update, names, values, condition=None):
    """ALL_NEW after the update, False when the condition failed, "invalid" for a ValidationException."""
    client.delete_item(TableName="things", Key={"id": item["id"]})
    client.put_item(TableName="things", Item=item)
    extra = {"ConditionExpression": condition} if condition else {}
    response = _moto(
        lambda: client.update_item(
            TableName="things",
            Key={"id": item["id"]},
            UpdateExpression=update,
            ReturnValues="ALL_NEW",
            **_placeholders(names, values),
            **extra,
        )
    )
    return response["Attributes"] if isinstance(response, dict) else response


def our_update(item, update, names, values, condition=None):
    def update_if_condition_holds():
        if condition and not condition_holds(condition, item, names, values):
            return False
        return apply_update(update, item, names, values)

    return _ours(update_if_condition_holds)


def moto_condition(client, item, condition, names, values) -> bool:
    """Whether a put of `item` passes `condition` (against the item stored under its key, if any)."""
    passed = _moto(
        lambda: client.put_item(
            TableName="things", Item=item, ConditionExpression=condition, **_placeholders(names, values)
        )
    )
    assert passed != "invalid"
    return passed is not False


def _same(moto_answer, our_answer) -> bool:
    if isinstance(moto_answer, dict) and isinstance(our_answer, dict):
        return _canon_item(moto_answer) == _canon_item(our_answer)
    return moto_answer == our_answer


# --- the expressions PynamoDB builds for our store ------------------------------------------------------

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

TASK = {
    "id": N(10),
    "project_id": N(1),
    "overlap": N(2),
    "labeling_count": N(1),
    "total_annotations": N(1),
    "cancelled_annotations": N(0),
    "is_labeled": FALSE,
    "annotation_ids": NS(100),
    "annotators": NS(7),
    "locks": M(**{"7": N("1700000000.5")}),
    "lease_rev": N(3),
    "queue_project": N(1),
    "version": N(4),
    "prediction_scores": M(),
    "meta": S("{}"),
    "data": S('{"text": "a"}'),
}
LABELED_TASK = {**TASK, "labeling_count": N(2), "is_labeled": TRUE, "skipped_by": NS(7, 9)}


def pynamodb(actions=(), condition=None):
    """(condition, update, names, values) as PynamoDB sends them: one placeholder namespace for both."""
    names: dict[str, str] = {}
    values: dict[str, dict] = {}
    condition_text = condition.serialize(names, values) if condition is not None else None
    update_text = Update(*actions).serialize(names, values) if actions else None
    return condition_text, update_text, {placeholder: name for name, placeholder in names.items()}, values


def _insert_answer(annotation_id: int, user: int):
    actions = [
        *task_store.child_actions(
            "annotation", annotation_id, {"total_annotations": 1, "labeling_count": 1}, added=True
        ),
        TaskModel.annotators.add({user}),
        TaskModel.skipped_by.delete({user}),
        task_store.lease_path(user).remove(),
        TaskModel.completed_at.set(NOW),
    ]
    return actions, TaskModel.id.exists() & ~TaskModel.annotation_ids.contains(annotation_id)


def _acquire(user: int, lease_rev: int, requeued: bool):
    actions = [
        task_store.lease_path(user).set(1700000100.25),
        TaskModel.lease_rev.add(1),
        task_store.lease_path(7).remove(),
    ]
    condition = (
        (TaskModel.lease_rev == lease_rev)
        & (TaskModel.total_annotations == 1)
        & (TaskModel.cancelled_annotations == 0)
        & TaskModel.queue_project.exists()
    )
    condition &= TaskModel.skipped_by.contains(user) if requeued else ~TaskModel.annotators.contains(user)
    return actions, condition


STALE = NOW - timedelta(minutes=20)
STORE_WRITES = {
    "answer a task": (TASK, *_insert_answer(101, 8)),
    "answer twice": (TASK, *_insert_answer(100, 8)),
    "remove the last answer": (
        TASK,
        [
            *task_store.child_actions(
                "annotation", 100, {"total_annotations": -1, "labeling_count": -1}, added=False
            ),
            TaskModel.annotators.delete({7}),
            TaskModel.skipped_by.delete({7}),
        ],
        TaskModel.id.exists() & TaskModel.annotation_ids.contains(100),
    ),
    "unskip": (LABELED_TASK, [TaskModel.skipped_by.delete({9})], None),
    "settle labeled, not yet": (
        TASK,
        [TaskModel.is_labeled.set(True), TaskModel.queue_project.remove()],
        (TaskModel.is_labeled == False) & (TaskModel.labeling_count >= TaskModel.overlap),  # noqa: E712
    ),
    "settle labeled": (
        {**TASK, "labeling_count": N(2)},
        [TaskModel.is_labeled.set(True), TaskModel.queue_project.remove()],
        (TaskModel.is_labeled == False) & (TaskModel.labeling_count >= TaskModel.overlap),  # noqa: E712
    ),
    "settle unlabeled": (
        {**LABELED_TASK, "labeling_count": N(1)},
        [TaskModel.is_labeled.set(False), TaskModel.queue_project.set(1)],
        (TaskModel.is_labeled == True) & (TaskModel.labeling_count < TaskModel.overlap),  # noqa: E712
    ),
    "lease": (TASK, *_acquire(8, 3, requeued=False)),
    "lease, stale revision": (TASK, *_acquire(8, 2, requeued=False)),
    "lease, already answered": (TASK, *_acquire(7, 3, requeued=False)),
    "lease a skipped task": (LABELED_TASK, *_acquire(9, 3, requeued=True)),
    "lease a skipped task, not skipped": (TASK, *_acquire(9, 3, requeued=True)),
    "versioned task update": (
        TASK,
        [
            TaskModel.data.set('{"text": "b"}'),
            TaskModel.data_ref.remove(),
            TaskModel.meta.set('{"k": 1}'),
            TaskModel.updated_at.set(NOW),
            TaskModel.version.set(5),
            TaskModel.updated_by.set(3),
        ],
        TaskModel.version == 4,
    ),
    "versioned task update, stale": (TASK, [TaskModel.version.set(4)], TaskModel.version == 3),
    "store predictions": (
        TASK,
        [
            TaskModel.prediction_ids.add({1, 2, 3}),
            TaskModel.total_predictions.add(3),
            *task_store.score_actions({"v1": 0.5, "v2": 0.125}, 0.25),
        ],
        TaskModel.id.exists(),
    ),
    "drop predictions": (
        {**TASK, "prediction_ids": NS(1, 2, 3), "total_predictions": N(3), "uncertainty": N("0.25")},
        [
            TaskModel.prediction_ids.delete({1, 3}),
            TaskModel.total_predictions.add(-2),
            TaskModel.uncertainty.remove(),
        ],
        None,
    ),
    "overlap": (TASK, [TaskModel.overlap.set(3), TaskModel.uncertainty.remove()], TaskModel.id.exists()),
    "project counters": (
        {"id": N(1), "total_annotations_number": N(4)},
        [ProjectModel.total_annotations_number.add(-1), ProjectModel.finished_task_number.add(1)],
        ProjectModel.id.exists(),
    ),
    "reserve inner ids": ({"id": N(1)}, [ProjectModel.inner_id_seq.add(50)], ProjectModel.id.exists()),
    "next id": ({"id": N(3)}, [Counter.value.add(25)], None),
    "export conversion": (
        {"id": N(5), "converted": M(CSV=S("completed"))},
        [Path(["converted", "JSON"]).set("in_progress")],
        ExportSnapshotModel.id.exists(),
    ),
    "export conversion without the map": (
        {"id": N(5)},
        [Path(["converted", "JSON"]).set("in_progress")],
        ExportSnapshotModel.id.exists(),
    ),
    "start a sync": (
        {"id": N(6), "status": S("completed")},
        [
            StorageModel.status.set("in_progress"),
            StorageModel.meta.set("{}"),
            StorageModel.sync_started_at.set(NOW),
        ],
        StorageModel.id.exists()
        & (
            (StorageModel.status != "in_progress")
            | StorageModel.sync_started_at.does_not_exist()
            | (StorageModel.sync_started_at < STALE)
        ),
    ),
    "start a sync while one runs": (
        {
            "id": N(6),
            "status": S("in_progress"),
            "sync_started_at": S(StorageModel.sync_started_at.serialize(NOW)),
        },
        [StorageModel.status.set("in_progress")],
        StorageModel.id.exists()
        & (
            (StorageModel.status != "in_progress")
            | StorageModel.sync_started_at.does_not_exist()
            | (StorageModel.sync_started_at < STALE)
        ),
    ),
    "start a backend job": (
        {"id": N(7), "job": S('{"status": "done"}')},
        [MLBackendModel.job.set('{"status": "running"}')],
        MLBackendModel.id.exists()
        & (MLBackendModel.job.does_not_exist() | ~MLBackendModel.job.contains('"status": "running"')),
    ),
    "start a backend job while one runs": (
        {"id": N(7), "job": S('{"status": "running"}')},
        [MLBackendModel.job.set('{"status": "running"}')],
        MLBackendModel.id.exists()
        & (MLBackendModel.job.does_not_exist() | ~MLBackendModel.job.contains('"status": "running"')),
    ),
    "finish a training": (
        {"id": N(7), "training_run": N(12)},
        [MLBackendModel.training_run.remove(), MLBackendModel.trained_annotations.set(40)],
        MLBackendModel.training_run == 12,
    ),
    "free an endpoint": (
        {"id": N(8), "owner_project_id": N(2)},
        [MLEndpointModel.owner_project_id.remove()],
        MLEndpointModel.owner_project_id == 3,
    ),
}


@pytest.mark.parametrize("case", STORE_WRITES, ids=str)
def test_store_writes_match_dynamodb(dynamodb, case):
    item, actions, condition = STORE_WRITES[case]
    condition_text, update_text, names, values = pynamodb(actions, condition)
    expected = moto_update(dynamodb, item, update_text, names, values, condition_text)
    ours = our_update(item, update_text, names, values, condition_text)
    assert _same(expected, ours), (update_text, condition_text, expected, ours)


@pytest.mark.parametrize("exists", [True, False])
def test_conditional_puts_match_dynamodb(dynamodb, exists):
    """`save(condition=Model.id.does_not_exist())`: the put is checked against no item, or the stored one."""
    item = {"id": N(20), "title": S("p")}
    dynamodb.delete_item(TableName="things", Key={"id": item["id"]})
    if exists:
        dynamodb.put_item(TableName="things", Item=item)
    condition, _, names, values = pynamodb(condition=ProjectModel.id.does_not_exist())
    expected = moto_condition(dynamodb, item, condition, names, values)
    assert condition_holds(condition, item if exists else None, names, values) is expected


# --- hand-written updates over the rest of the grammar ---------------------------------------------------

ITEM = {
    "id": N(1),
    "title": S("alpha"),
    "n": N(5),
    "f": N("1.5"),
    "flag": TRUE,
    "ids": NS(1, 2, 3),
    "tags": SS("red", "blue"),
    "l": L(S("x"), N(2), M(a=N(1))),
    "m": M(a=N(1), b=M(c=S("deep")), **{"7": N("1700000000.5")}),
    "bin": {"B": b"\x01\x02\x03"},
    "bins": {"BS": [b"\x01", b"\x02"]},
    "gone": NULL,
}

UPDATES = [
    ("SET title = :v", None, {":v": S("beta")}),
    ("SET #t = :v, #n = #n + :one", {"#t": "title", "#n": "n"}, {":v": S("b"), ":one": N(1)}),
    ("SET n = n - :d", None, {":d": N("0.5")}),
    ("SET n = :d - n", None, {":d": N(2)}),
    ("SET n = f + n", None, None),
    ("SET twin = n", None, None),
    ("SET twin = absent", None, None),
    ("SET twin = absent + :one", None, {":one": N(1)}),
    ("SET title = title + :one", None, {":one": N(1)}),
    ("SET n = n + :s", None, {":s": S("1")}),
    ("SET c = if_not_exists(c, :zero) + :one", None, {":zero": N(0), ":one": N(1)}),
    ("SET n = if_not_exists(n, :zero) + :one", None, {":zero": N(0), ":one": N(1)}),
    ("SET title = if_not_exists(title, :v)", None, {":v": S("other")}),
    ("SET l = list_append(l, :more)", None, {":more": L(S("y"))}),
    ("SET l = list_append(:more, l)", None, {":more": L(S("y"), NULL)}),
    ("SET nl = list_append(if_not_exists(nl, :empty), :more)", None, {":empty": L(), ":more": L(N(1))}),
    ("SET l = list_append(l, :s)", None, {":s": S("y")}),
    ("SET l[0] = :v", None, {":v": S("first")}),
    ("SET l[1] = l[0]", None, None),
    ("SET l[9] = :v", None, {":v": S("appended")}),
    ("SET l[2].a = :v", None, {":v": S("in a map in a list")}),
    ("SET m.a = :v, m.b.c = :w", None, {":v": N(2), ":w": S("deeper")}),
    ("SET m.#u = :t", {"#u": "8"}, {":t": N("1700000200.75")}),
    ("SET m.x.y = :v", None, {":v": N(1)}),
    ("SET nothing.here = :v", None, {":v": N(1)}),
    ("SET m = :v", None, {":v": M(k=L(N(1), SS("a")), e=M())}),
    ("SET a = :v, b = :v", None, {":v": TRUE}),
    ("SET n = title, title = n", None, None),
    ("SET m.a = m.b.c", None, None),
    ("REMOVE title, absent", None, None),
    ("REMOVE m.a, m.b.c, m.absent", None, None),
    ("REMOVE m.#u", {"#u": "7"}, None),
    ("REMOVE l[1]", None, None),
    ("REMOVE l[0], l[2]", None, None),
    ("REMOVE l[7]", None, None),
    ("REMOVE nothing.here", None, None),
    ("REMOVE l[2].a", None, None),
    ("ADD n :d", None, {":d": N(-7)}),
    ("ADD f :d", None, {":d": N("0.25")}),
    ("ADD tally :d", None, {":d": N(3)}),
    ("ADD ids :v", None, {":v": NS(3, 4, 5)}),
    ("ADD tags :v", None, {":v": SS("green", "red")}),
    ("ADD bins :v", None, {":v": {"BS": [b"\x02", b"\x03"]}}),
    ("ADD fresh :v", None, {":v": SS("a", "b")}),
    ("ADD m.a :d", None, {":d": N(1)}),
    ("ADD m.fresh :d", None, {":d": N(1)}),
    ("ADD nothing.here :d", None, {":d": N(1)}),
    ("ADD tags :v", None, {":v": NS(1)}),
    ("ADD title :v", None, {":v": N(1)}),
    ("ADD n :v", None, {":v": S("1")}),
    ("ADD n :v", None, {":v": L(N(1))}),
    ("DELETE ids :v", None, {":v": NS(2, 9)}),
    ("DELETE ids :v", None, {":v": NS(1, 2, 3)}),
    ("DELETE tags :v", None, {":v": SS("red")}),
    ("DELETE bins :v", None, {":v": {"BS": [b"\x01"]}}),
    ("DELETE absent :v", None, {":v": SS("red")}),
    ("DELETE nothing.here :v", None, {":v": SS("red")}),
    ("DELETE tags :v", None, {":v": NS(1)}),
    ("DELETE ids :v", None, {":v": N(1)}),
    (
        "SET title = :v REMOVE n ADD ids :i DELETE tags :t",
        None,
        {":v": S("z"), ":i": NS(8), ":t": SS("blue")},
    ),
    (
        "delete tags :t add ids :i remove n set title = :v",
        None,
        {":v": S("z"), ":i": NS(8), ":t": SS("blue")},
    ),
    ("SET #a.#b = :v", {"#a": "m", "#b": "a.b"}, {":v": S("a dotted name")}),
    ("SET title = :v, title = :w", None, {":v": S("1"), ":w": S("2")}),
    ("SET m = :v REMOVE m.a", None, {":v": M()}),
    ("SET m.a = :v ADD m :w", None, {":v": N(1), ":w": N(1)}),
    ("SET title = :v SET n = :v", None, {":v": S("1")}),
    ("SET title :v", None, {":v": S("1")}),
    ("SET title = :v,", None, {":v": S("1")}),
    ("UPSERT title = :v", None, {":v": S("1")}),
    ("SET title = size(title)", None, None),
]


@pytest.mark.parametrize(("update", "names", "values"), UPDATES, ids=[u[0] for u in UPDATES])
def test_updates_match_dynamodb(dynamodb, update, names, values):
    expected = moto_update(dynamodb, ITEM, update, names, values)
    ours = our_update(ITEM, update, names, values)
    assert _same(expected, ours), (expected, ours)


# --- conditions and filters: one scan evaluates an expression on every item -----------------------------

ITEMS = [
    ITEM,
    {
        "id": N(2),
        "title": S("beta"),
        "n": N(-3),
        "f": N("1.50"),
        "flag": FALSE,
        "ids": NS(4),
        "tags": SS("green"),
        "l": L(),
        "m": M(),
        "labeling_count": N(2),
        "overlap": N(2),
    },
    {
        "id": N(3),
        "title": S("alphabet"),
        "n": N("5.0"),
        "f": N("5.00"),
        "labeling_count": N(1),
        "overlap": N(2),
        "l": L(S("red"), N(2)),
        "tags": L(S("red")),
        "m": M(a=S("1")),
    },
    {"id": N(4)},
    # Other types under the same names: `=` tells them apart (ordering them is in a direct test below,
    # moto fails on it).
    {"id": N(5), "flag": S("true"), "gone": S("here"), "ids": SS("2"), "bin": {"B": b"\x01\x09"}},
    {"id": N(6), "title": S("é ünïcode 😀"), "n": N("1e2"), "l": L(L(N(1)), M(a=N(1))), "m": M(b=M())},
]

CONDITIONS = [
    ("title = :v", None, {":v": S("alpha")}),
    ("title <> :v", None, {":v": S("alpha")}),
    ("title < :v", None, {":v": S("alphabet")}),
    ("title <= :v", None, {":v": S("alphabet")}),
    ("title > :v", None, {":v": S("b")}),
    ("title >= :v", None, {":v": S("beta")}),
    ("n = :v", None, {":v": N(5)}),
    ("n > :v", None, {":v": N("4.999")}),
    ("n <= :v", None, {":v": N(-3)}),
    ("n >= :v", None, {":v": N(100)}),
    ("f = :v", None, {":v": N("1.5")}),
    ("attribute_exists(f) AND n = f", None, None),
    ("labeling_count >= overlap", None, None),
    ("labeling_count < overlap", None, None),
    ("#l >= #o", {"#l": "labeling_count", "#o": "overlap"}, None),
    ("flag = :t", None, {":t": TRUE}),
    ("flag <> :t", None, {":t": TRUE}),
    ("attribute_exists(gone) AND gone = :null", None, {":null": NULL}),
    ("ids = :set", None, {":set": NS(3, 1, 2)}),
    ("tags = :set", None, {":set": SS("blue", "red")}),
    ("l = :list", None, {":list": L(S("x"), N("2.0"), M(a=N(1)))}),
    ("m = :map", None, {":map": M(a=S("1"))}),
    ("m.b = :map", None, {":map": M(c=S("deep"))}),
    ("m.b.c = :v", None, {":v": S("deep")}),
    ("#m.#k = :v", {"#m": "m", "#k": "7"}, {":v": N("1700000000.50")}),
    ("l[0] = :v", None, {":v": S("x")}),
    ("l[2].a = :v", None, {":v": N(1)}),
    ("l[0][0] = :v", None, {":v": N(1)}),
    ("l[5] = :v", None, {":v": S("x")}),
    ("bin = :b", None, {":b": {"B": b"\x01\x02\x03"}}),
    ("bin < :b", None, {":b": {"B": b"\x01\x05"}}),
    ("n BETWEEN :lo AND :hi", None, {":lo": N(0), ":hi": N(5)}),
    ("title BETWEEN :lo AND :hi", None, {":lo": S("a"), ":hi": S("alpha")}),
    ("n IN (:a, :b, :c)", None, {":a": N(5), ":b": S("5"), ":c": N(100)}),
    ("title IN (:a)", None, {":a": S("beta")}),
    ("attribute_exists(title)", None, None),
    ("attribute_not_exists(title)", None, None),
    ("attribute_exists(m.b)", None, None),
    ("attribute_exists(l[1])", None, None),
    ("attribute_not_exists(#k)", {"#k": "labeling_count"}, None),
    ("attribute_exists(gone)", None, None),
    ("attribute_type(title, :s)", None, {":s": S("S")}),
    ("attribute_type(n, :t)", None, {":t": S("N")}),
    ("attribute_type(m, :t)", None, {":t": S("M")}),
    ("attribute_type(tags, :t)", None, {":t": S("L")}),
    ("begins_with(title, :p)", None, {":p": S("alpha")}),
    ("begins_with(title, :p)", None, {":p": S("é")}),
    ("contains(title, :s)", None, {":s": S("ph")}),
    ("contains(tags, :s)", None, {":s": S("red")}),
    ("contains(ids, :n)", None, {":n": N(2)}),
    ("contains(l, :v)", None, {":v": N(2)}),
    ("contains(l, :v)", None, {":v": M(a=N(1))}),
    ("contains(bins, :b)", None, {":b": {"B": b"\x02"}}),
    ("NOT contains(ids, :n)", None, {":n": N(2)}),
    ("title = :a OR title = :b AND n = :n", None, {":a": S("alpha"), ":b": S("beta"), ":n": N(5)}),
    ("(title = :a OR title = :b) AND n = :n", None, {":a": S("alpha"), ":b": S("beta"), ":n": N(5)}),
    ("NOT title = :a AND attribute_exists(n)", None, {":a": S("alpha")}),
    ("NOT (title = :a AND attribute_exists(n))", None, {":a": S("alpha")}),
    ("not title = :a or n = :n", None, {":a": S("alpha"), ":n": N(-3)}),
    ("((attribute_exists (id)) AND (NOT contains (ids, :0)))", None, {":0": N(4)}),
    ("title = :a AND", None, {":a": S("alpha")}),
    ("title == :a", None, {":a": S("alpha")}),
    ("title = :a)", None, {":a": S("alpha")}),
    ("ATTRIBUTE_EXISTS(title)", None, None),
    ("no_such_function(title)", None, None),
    ("contains(title)", None, None),
]


@pytest.mark.parametrize(("condition", "names", "values"), CONDITIONS, ids=[c[0] for c in CONDITIONS])
def test_filters_match_dynamodb(dynamodb, condition, names, values):
    for item in ITEMS:
        dynamodb.put_item(TableName="filtered", Item=item)
    expected = _moto(
        lambda: sorted(
            int(i["id"]["N"])
            for page in dynamodb.get_paginator("scan").paginate(
                TableName="filtered", FilterExpression=condition, **_placeholders(names, values)
            )
            for i in page["Items"]
        )
    )
    ours = _ours(
        lambda: sorted(
            int(i["id"]["N"])
            for i in ITEMS
            if condition_holds(condition, i, names, values, kind="FilterExpression")
        )
    )
    assert ours == expected


SIZES = [
    ("size(title) = :n", {":n": N(5)}),
    ("size(title) > :n", {":n": N(5)}),
    ("size(tags) >= :n", {":n": N(2)}),
    ("size(ids) = :n", {":n": N(3)}),
    ("size(l) < :n", {":n": N(1)}),
    ("size(l) = :n", {":n": N(3)}),
    ("size(m) > :n", {":n": N(2)}),
    ("size(bin) = :n", {":n": N(3)}),
    ("size(bins) <= :n", {":n": N(2)}),
]


@pytest.mark.parametrize(("condition", "values"), SIZES, ids=[c[0] for c in SIZES])
def test_sizes_match_dynamodb(dynamodb, condition, values):
    """size() through conditional puts, on items that have the attribute (moto's scan filters cannot
    evaluate size, and its conditions fail on a missing attribute)."""
    name = condition[5 : condition.index(")")]
    for item in ITEMS:
        if name not in item:
            continue
        dynamodb.put_item(TableName="things", Item=item)
        expected = moto_condition(dynamodb, item, condition, None, values)
        assert condition_holds(condition, item, None, values) is expected, item["id"]


# --- projections -----------------------------------------------------------------------------------------

PROJECTIONS = [
    ("title", None),
    ("title, n, absent", None),
    ("#t, #m.#k", {"#t": "title", "#m": "m", "#k": "7"}),
    ("m.a, m.b.c", None),
    ("m.b", None),
    ("m.nothing", None),
    ("l[0]", None),
    ("l[2].a, tags", None),
    ("l[9]", None),
    ("title.x", None),
    ("id, bin, bins, gone, flag", None),
]


@pytest.mark.parametrize(("projection", "names"), PROJECTIONS, ids=[p[0] for p in PROJECTIONS])
def test_projections_match_dynamodb(dynamodb, projection, names):
    dynamodb.put_item(TableName="things", Item=ITEM)
    response = _moto(
        lambda: dynamodb.get_item(
            TableName="things",
            Key={"id": ITEM["id"]},
            ProjectionExpression=projection,
            **_placeholders(names, None),
        )
    )
    expected = response.get("Item", {}) if isinstance(response, dict) else response
    ours = _ours(lambda: project(projection, ITEM, names))
    assert _same(expected, ours), (expected, ours)


# --- key conditions and sort order -----------------------------------------------------------------------

SORT_KEYS = {
    "N": [N(v) for v in ("-10", "-1.5", "-1e-3", "0", "0.001", "2", "10", "100", "1e3", "99.5")],
    "S": [S(v) for v in ("A", "B", "a", "ab", "abc", "b", "z", "é", "\ufffd", "😀", "1", "ab ")],
    "B": [{"B": v} for v in (b"\x00", b"\x00\x00", b"a", b"ab", b"abc", b"\x7f", b"\x80\x01", b"\xff")],
}


@pytest.fixture(scope="module")
def sorted_tables(dynamodb):
    for kind, keys in SORT_KEYS.items():
        for key in keys:
            dynamodb.put_item(TableName=f"sorted-{kind}", Item={"pk": S("p"), "sk": key})
            dynamodb.put_item(TableName=f"sorted-{kind}", Item={"pk": S("q"), "sk": key})
    return dynamodb


@pytest.mark.parametrize("kind", SORT_KEYS)
def test_sort_order_matches_dynamodb(sorted_tables, kind):
    response = sorted_tables.query(
        TableName=f"sorted-{kind}", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": S("p")}
    )
    stored = [item["sk"] for item in response["Items"]]
    assert len(stored) == len(SORT_KEYS[kind])
    assert sorted(SORT_KEYS[kind], key=functools.cmp_to_key(compare_values)) == stored


def _satisfies(condition: KeyCondition, item: dict) -> bool:
    if compare_values(item[condition.hash_name], condition.hash_value) != 0:
        return False
    if condition.range_name is None:
        return True
    value, bounds = item[condition.range_name], condition.range_values
    if condition.range_op == "begins_with":
        ((tag, prefix),) = bounds[0].items()
        return tag in value and value[tag].startswith(prefix)
    if condition.range_op == "BETWEEN":
        return compare_values(value, bounds[0]) >= 0 and compare_values(value, bounds[1]) <= 0
    order = compare_values(value, bounds[0])
    return {"=": order == 0, "<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[
        condition.range_op
    ]


def _pynamodb_key_condition(range_condition, hash_value="p"):
    names: dict[str, str] = {}
    values: dict[str, dict] = {}
    condition = Path(["pk"]) == hash_value
    if range_condition is not None:
        condition &= range_condition
    text = condition.serialize(names, values)
    return text, {placeholder: name for name, placeholder in names.items()}, values


SK = Path(["sk"])
KEY_CONDITIONS = [
    ("N", *_pynamodb_key_condition(None)),
    ("N", *_pynamodb_key_condition(SK >= 2)),
    ("N", *_pynamodb_key_condition(SK < 0.001)),
    ("N", *_pynamodb_key_condition(SK == 100)),
    ("N", *_pynamodb_key_condition(SK.between(-2, 10))),
    ("N", *_pynamodb_key_condition(SK <= -10)),
    ("N", *_pynamodb_key_condition(SK > 1000)),
    ("S", *_pynamodb_key_condition(SK.startswith("ab"))),
    ("S", *_pynamodb_key_condition(SK > "b")),
    ("S", *_pynamodb_key_condition(SK.between("B", "ab"))),
    ("S", *_pynamodb_key_condition(SK.startswith("é"))),
    ("B", "pk = :p AND begins_with(sk, :b)", None, {":p": S("p"), ":b": {"B": b"a"}}),
    ("B", *_pynamodb_key_condition(SK >= b"\x7f")),
    ("N", "sk > :lo AND pk = :p", None, {":p": S("q"), ":lo": N(5)}),
    ("N", "pk = :p AND sk = :hundred", None, {":p": S("p"), ":hundred": N("1E2")}),
    (
        "N",
        "#pk = :p and #sk between :lo and :hi",
        {"#pk": "pk", "#sk": "sk"},
        {":p": S("p"), ":lo": N(0), ":hi": N(0)},
    ),
    ("S", "pk = :p AND begins_with ( sk , :x )", None, {":p": S("p"), ":x": S("a")}),
]


@pytest.mark.parametrize(
    ("kind", "expression", "names", "values"), KEY_CONDITIONS, ids=[k[1] for k in KEY_CONDITIONS]
)
def test_key_conditions_match_dynamodb(sorted_tables, kind, expression, names, values):
    for forward in (True, False):
        response = sorted_tables.query(
            TableName=f"sorted-{kind}",
            KeyConditionExpression=expression,
            ScanIndexForward=forward,
            **_placeholders(names, values),
        )
        condition = key_condition(expression, names, values, hash_key="pk")
        assert condition.hash_name == "pk"
        items = [{"pk": S(pk), "sk": key} for pk in "pq" for key in SORT_KEYS[kind]]
        ours = sorted(
            (item for item in items if _satisfies(condition, item)),
            key=functools.cmp_to_key(lambda a, b: compare_values(a["sk"], b["sk"])),
            reverse=not forward,
        )
        assert ours == response["Items"]


@pytest.mark.parametrize(
    ("expression", "values", "message"),
    [
        (
            "pk = :p OR sk = :s",
            {":p": S("p"), ":s": N(1)},
            "Invalid operator used in KeyConditionExpression: OR",
        ),
        (
            "pk = :p AND sk <> :s",
            {":p": S("p"), ":s": N(1)},
            "Unsupported operator on KeyConditionExpression",
        ),
        (
            "pk = :p AND sk IN (:s)",
            {":p": S("p"), ":s": N(1)},
            "Invalid operator used in KeyConditionExpression: IN",
        ),
        (
            "pk = :p AND NOT sk = :s",
            {":p": S("p"), ":s": N(1)},
            "Invalid operator used in KeyConditionExpression: NOT",
        ),
        ("pk = :p AND sk = :s AND sk = :s", {":p": S("p"), ":s": N(1)}, "one condition per key"),
        ("pk = :p AND sk > :s AND sk < :s", {":p": S("p"), ":s": N(1)}, "one condition per key"),
        ("pk = :p AND sk BETWEEN :hi AND :lo", {":p": S("p"), ":lo": N(1), ":hi": N(5)}, "upper bound"),
        ("pk = :p AND begins_with(sk, :s)", {":p": S("p"), ":s": N(1)}, "operand type: N"),
        ("pk = :p AND begins_with(sk, :s)", {":p": S("p"), ":s": S("")}, "empty string value. Key: sk"),
        ("sk = :s", {":s": N(1)}, "missed key schema element: pk"),
        ("pk < :p", {":p": S("p")}, "Query key condition not supported"),
        ("pk = :p AND sk = pk", {":p": S("p")}, "Multiple attribute names"),
        ("pk = :p AND sk.x = :s", {":p": S("p"), ":s": N(1)}, "nested attributes"),
        ("pk = :p AND size(sk) = :s", {":p": S("p"), ":s": N(1)}, "size"),
    ],
)
def test_key_conditions_dynamodb_refuses(expression, values, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        key_condition(expression, None, values, hash_key="pk")


# --- what DynamoDB does where moto does not ---------------------------------------------------------------


def test_numbers_come_back_in_dynamodb_form():
    item = {"id": N(1), "a": N("1.50"), "b": N("0.1"), "s": NS("1", "2")}
    updated = apply_update(
        "SET a = a + :one, b = b + :b ADD c :c, s :s",
        item,
        None,
        {":one": N(1), ":b": N("0.2"), ":c": N("1e2"), ":s": NS("1.0", "3")},
    )
    # Decimal arithmetic, no float noise, no exponent, no trailing zeros; "1.0" is the number 1 already there.
    assert updated == {"id": N(1), "a": N("2.5"), "b": N("0.3"), "c": N("100"), "s": NS("1", "2", "3")}
    assert [canonical_number(n) for n in ("1.500", "-0.0", "1E+3", "12.3400E-2", "0.000001")] == [
        "1.5",
        "0",
        "1000",
        "0.1234",
        "0.000001",
    ]
    deleted = apply_update("DELETE s :s", item, None, {":s": NS("1.0", "2.00")})
    assert "s" not in deleted  # numbers in a set are the same by value; the emptied set goes


def test_numbers_out_of_range_are_refused():
    with pytest.raises(ExpressionError, match="overflow"):
        apply_update("ADD n :n", {"n": N("9.9e125")}, None, {":n": N("9.9e125")})
    with pytest.raises(ExpressionError, match="38"):
        apply_update("SET n = n + :n", {"n": N("1" + "0" * 37)}, None, {":n": N("0.5")})


def test_update_needs_the_parent_map():
    with pytest.raises(ExpressionError) as refused:
        apply_update("SET #l.#u = :t", {"id": N(1)}, {"#l": "locks", "#u": "7"}, {":t": N(1)})
    assert str(refused.value) == "The document path provided in the update expression is invalid for update"


def test_syntax_errors_name_the_token_and_where_it_is():
    with pytest.raises(ExpressionError) as refused:
        condition_holds("a = :a AND OR b = :b", {}, None, {":a": N(1), ":b": N(1)})
    assert (
        str(refused.value)
        == 'Invalid ConditionExpression: Syntax error; token: "OR", near: "AND OR b", position: 11'
    )
    with pytest.raises(ExpressionError) as refused:
        apply_update("SET a = :a +", {}, None, {":a": N(1)})
    assert (
        str(refused.value)
        == 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "+", position: 12'
    )
    with pytest.raises(ExpressionError, match=r'token: "\$", near: ":a \$", position: 7'):
        condition_holds("a = :a $ b", {}, None, {":a": N(1)})


def test_undefined_placeholders_are_named():
    with pytest.raises(ExpressionError, match=r"attribute name: #x$"):
        condition_holds("#x = :v", None, {}, {":v": N(1)})
    with pytest.raises(ExpressionError, match=r"attribute value: :v$"):
        apply_update("SET a = :v", {}, None, None)
    assert placeholders_used("#a = :b AND #a.#c = :d", "SET #e = :f", None) == (
        {"#a", "#c", "#e"},
        {":b", ":d", ":f"},
    )


def test_constant_operands_of_the_wrong_type_are_refused_before_evaluation():
    # moto answers False to these; DynamoDB refuses them, whatever the item holds.
    refused = [
        ("begins_with(a, :n)", {":n": N(1)}),
        ("a < :s", {":s": SS("x")}),
        ("a BETWEEN :hi AND :lo", {":lo": N(1), ":hi": N(2)}),
        ("a BETWEEN :lo AND :s", {":lo": N(1), ":s": S("2")}),
        ("attribute_type(a, :t)", {":t": S("STRING")}),
        ("attribute_exists(a) OR begins_with(a, :n)", {":n": N(1)}),
    ]
    for expression, values in refused:
        with pytest.raises(ExpressionError, match="Invalid ConditionExpression"):
            condition_holds(expression, None, None, values)


def test_updates_dynamodb_refuses_that_moto_takes():
    values = {":a": N(1), ":b": N(1), ":c": N(1)}
    with pytest.raises(ExpressionError, match="Syntax error"):  # one + or - per operand, no chains
        apply_update("SET x = :a + :b + :c", {}, None, values)
    with pytest.raises(ExpressionError, match="conflict"):  # a map and a list at one place
        apply_update("SET a.b = :a, a[0] = :b", {"a": M()}, None, values)
    with pytest.raises(ExpressionError, match="overlap"):
        project("a, a.b", {"a": M(b=N(1))}, None)
    with pytest.raises(ExpressionError, match="Invalid function name"):  # function names are case-sensitive
        condition_holds("Attribute_Exists(a)", {}, None, None)


def test_list_elements_follow_their_original_indexes():
    item = {"l": L(S("0"), S("1"), S("2"), S("3"))}
    # Several appends land in index order (DynamoDB documents it; moto appends in expression order).
    assert apply_update("SET l[9] = :b, l[8] = :a", item, None, {":a": S("a"), ":b": S("b")})["l"] == L(
        S("0"), S("1"), S("2"), S("3"), S("a"), S("b")
    )
    assert apply_update("REMOVE l[2], l[0]", item, None, None)["l"] == L(S("1"), S("3"))
    assert apply_update("SET l[1] = :x REMOVE l[0]", item, None, {":x": S("x")})["l"] == L(
        S("x"), S("2"), S("3")
    )
    # Projecting several elements of one list keeps them all, in list order (moto keeps one).
    assert project("l[3], l[1]", item, None) == {"l": L(S("1"), S("3"))}


def test_update_leaves_the_item_alone_and_copies_only_the_path_it_changes():
    locks = M(**{"7": N(1), "8": N(2)})
    other = M(deep=M(x=L(N(1))))
    item = {"id": N(1), "locks": locks, "other": other, "ids": NS(1)}
    updated = apply_update(
        "SET locks.#a = :t REMOVE locks.#b ADD ids :i",
        item,
        {"#a": "9", "#b": "7"},
        {":t": N(3), ":i": NS(2)},
    )
    assert item == {"id": N(1), "locks": M(**{"7": N(1), "8": N(2)}), "other": other, "ids": NS(1)}
    assert updated["locks"] == M(**{"8": N(2), "9": N(3)})
    assert updated["other"] is other and updated["id"] is item["id"]
    assert updated["locks"]["M"]["8"] is locks["M"]["8"]


def test_missing_attributes_and_other_types_compare_as_dynamodb_does():
    # Nothing equals a missing attribute, not even NULL or another missing one; so `<>` holds for it
    # (moto takes a missing attribute for NULL, and two missing ones for equal).
    assert condition_holds("a <> :v", None, None, {":v": N(1)})
    assert not condition_holds("a = :v", {}, None, {":v": N(1)})
    assert not condition_holds("a = :null", {}, None, {":null": NULL})
    assert not condition_holds("a = b", {}, None, None)
    assert not condition_holds("a < :v OR a >= :v", None, None, {":v": N(1)})
    assert not condition_holds("size(a) >= :v", {}, None, {":v": N(1)})
    assert condition_holds("attribute_not_exists(id)", None, None, None)
    # Values of another type are unequal and unordered, not errors (moto fails on ordering them).
    item = {"a": S("1"), "n": N(2), "b": {"B": b"\x01\x02"}}
    assert not condition_holds("a = :v", item, None, {":v": N(1)})
    assert not condition_holds("a < :v OR a >= :v OR n < a OR n >= a", item, None, {":v": N(1)})
    assert not condition_holds("size(n) >= :v", item, None, {":v": N(0)})  # a number has no size
    # Binaries have prefixes and parts as strings do (moto's begins_with finds none).
    assert condition_holds(
        "begins_with(b, :b) AND contains(b, :c)", item, None, {":b": {"B": b"\x01"}, ":c": {"B": "Ag=="}}
    )


def test_update_paths_into_non_maps_are_invalid():
    item = {"title": S("alpha"), "l": L(S("x"))}
    for update in ("SET title.x = :v", "SET l[0].a = :v", "SET l.a = :v", "ADD title.x :v", "REMOVE l[0].a"):
        with pytest.raises(ExpressionError, match="invalid for update"):  # moto changes nothing instead
            apply_update(update, item, None, {":v": N(1)} if ":v" in update else None)


def test_key_condition_parts():
    values = {":p": S("p"), ":a": N(1), ":b": N(2)}
    assert key_condition(
        "(#0 = :p AND #1 BETWEEN :a AND :b)", {"#0": "pk", "#1": "sk"}, values
    ) == KeyCondition("pk", S("p"), "sk", "BETWEEN", (N(1), N(2)))
    # Two equalities: the table's hash key says which is which; without it the first is the hash.
    assert key_condition("sk = :a AND pk = :p", None, values, hash_key="pk") == KeyCondition(
        "pk", S("p"), "sk", "=", (N(1),)
    )
    assert key_condition("sk = :a AND pk = :p", None, values).hash_name == "sk"
    assert key_condition(":p = pk", None, {":p": S("p")}) == KeyCondition("pk", S("p"), None, None, ())
    with pytest.raises(ExpressionError, match="missed key schema element: pk"):
        key_condition("sk = :a", None, {":a": N(1)}, hash_key="pk")


def test_compare_values_refuses_mixed_types():
    assert (
        compare_values({"B": "AQI="}, {"B": b"\x01\x02"}) == 0
    )  # base64 from the wire, raw bytes from the SDK
    with pytest.raises(ExpressionError):
        compare_values(N(1), S("1"))
    with pytest.raises(ExpressionError):
        compare_values(SS("a"), SS("a"))
