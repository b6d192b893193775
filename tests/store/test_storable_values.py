"""What the store holds must read back, on both engines: scores of any model version (the empty one
included, though DynamoDB refuses empty map keys), tasks whose stored maps went bad, ids no counter can
reach. And the sqlite engine refuses what DynamoDB refuses, so nothing passes here that fails on AWS."""

from __future__ import annotations

import sqlite3

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.operand import Path

from functions.domain.errors import NotFound
from functions.domain.records import Project, Task
from functions.store import projects as project_store
from functions.store import tasks as task_store
from functions.store.aws_clients import client
from functions.store.errors import unavailable
from functions.store.models import TaskModel

VERSIONS = {"": 0.1, "~": 0.2, "~~a": 0.3, "b": 0.4, "undefined": 0.5}


def _task(task_id: int = 1, **fields) -> Task:
    project_store.create(Project(id=1, title="p", created_by=1))
    task = Task(id=task_id, project_id=1, data={"text": "t"}, **fields)
    task_store.create(task)
    return task


def test_scores_of_any_model_version_round_trip(aws):
    _task(1, prediction_scores=dict(VERSIONS))
    assert task_store.get(1).prediction_scores == VERSIONS
    task_store.set_scores(1, {"": 0.9, "~x": 0.8}, 0.8)
    assert task_store.get(1).prediction_scores == {"": 0.9, "~x": 0.8}
    task_store.put_many([Task(id=2, project_id=1, data={}, prediction_scores={"": 0.7})])
    [got] = task_store.batch_get([2])
    assert got.prediction_scores == {"": 0.7}


def test_a_task_whose_maps_went_bad_reads_without_them(aws):
    _task(1)
    TaskModel(1).update(
        actions=[
            Path(["prediction_scores"]).set({"v": "text", "w": [1], "x": True, "ok": 0.5}),
            Path(["locks"]).set({"not-a-user": 5.0, "7": "soon", "8": 9.5}),
        ]
    )
    task = task_store.get(1)
    assert task.prediction_scores == {"ok": 0.5} and task.locks == {8: 9.5}
    task_store.delete(1)
    with pytest.raises(NotFound):
        task_store.get(1)


@pytest.mark.parametrize("task_id", [2**63, -(2**63), 10**40, 10**130])
def test_an_id_no_counter_reaches_names_nothing(aws, task_id):
    _task(1)
    with pytest.raises(NotFound):
        task_store.get(task_id)
    assert [t.id for t in task_store.batch_get([task_id, 1])] == [1]
    with pytest.raises(NotFound):
        project_store.get(task_id)


def _put_raw(attributes: dict) -> None:
    item = {"id": {"N": "5"}, "project_id": {"N": "1"}, **attributes}
    client("dynamodb").put_item(TableName=TaskModel.Meta.table_name, Item=item)


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"prediction_scores": {"M": {"": {"N": "0.5"}}}}, "Empty attribute name"),
        ({"meta": {"M": {"a": {"L": [{"M": {"": {"S": "x"}}}]}}}}, "Empty attribute name"),
        ({"uncertainty": {"N": "NaN"}}, "numeric value"),
        ({"uncertainty": {"N": "1e200"}}, "overflow"),
        ({"uncertainty": {"N": "2.3e-145"}}, "underflow"),
        ({"uncertainty": {"N": "1" * 39}}, "38 significant digits"),
        ({"annotation_ids": {"NS": ["1", "Infinity"]}}, "numeric value"),
    ],
)
def test_the_sqlite_engine_refuses_what_dynamodb_refuses(aws, engine, attributes, message):
    if engine != "sqlite":
        pytest.skip("moto stores these (and then cannot read some of them back); DynamoDB refuses them")
    with pytest.raises(ClientError) as refused:
        _put_raw(attributes)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert message in refused.value.response["Error"]["Message"]
    with pytest.raises(NotFound):
        task_store.get(5)


def test_the_sqlite_engine_looks_only_at_what_a_write_changes(aws, engine):
    """DynamoDB checks the values a request sends; an attribute left as it was is not sent again."""
    if engine != "sqlite":
        pytest.skip("the sqlite engine's own rule")
    _task(1)
    TaskModel(1).update(actions=[TaskModel.overlap.set(3)])
    with pytest.raises(UpdateError):
        TaskModel(1).update(actions=[Path(["prediction_scores"]).set({"": 1.0})])
    assert task_store.get(1).overlap == 3


def test_a_sqlite_task_stored_with_an_empty_score_key_still_reads(aws, engine, monkeypatch):
    """Before model versions were escaped, the sqlite engine kept an empty key as it was: such a task
    reads, takes new scores (written escaped) and deletes."""
    if engine != "sqlite":
        pytest.skip("DynamoDB never stored one")
    from functions.store.sqlite.dynamodb import SqliteDynamoDB

    _task(1)
    with monkeypatch.context() as before_the_rule:
        before_the_rule.setattr(SqliteDynamoDB, "_refuse_unstorable", staticmethod(lambda old, new: None))
        TaskModel(1).update(actions=[Path(["prediction_scores"]).set({"": 0.5, "v": 0.25})])
    assert task_store.get(1).prediction_scores == {"": 0.5, "v": 0.25}
    task_store.set_scores(1, {"": 0.75, "v": 0.25}, 0.25)
    assert task_store.get(1).prediction_scores == {"": 0.75, "v": 0.25}
    task_store.delete(1)
    with pytest.raises(NotFound):
        task_store.get(1)


def _client_error(code: str, operation: str = "GetItem") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


@pytest.mark.parametrize(
    "failure",
    [
        _client_error("ProvisionedThroughputExceededException"),
        _client_error("ThrottlingException"),
        _client_error("RequestLimitExceeded"),
        _client_error("ServiceUnavailable"),
        _client_error("InternalServerError"),
        _client_error("SlowDown", "PutObject"),
        PutError("Failed to put item", _client_error("ProvisionedThroughputExceededException", "PutItem")),
        ClientError(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "x"},
                "CancellationReasons": [{"Code": "None"}, {"Code": "ThrottlingError"}],
            },
            "TransactWriteItems",
        ),
        sqlite3.OperationalError("database is locked"),
        ReadTimeoutError(endpoint_url="https://dynamodb.example"),
    ],
)
def test_throttling_and_unreachable_stores_are_unavailable(failure):
    assert unavailable(failure)
    wrapped = RuntimeError("while saving")
    wrapped.__cause__ = failure
    assert unavailable(wrapped)


@pytest.mark.parametrize(
    "failure",
    [
        _client_error("ValidationException", "PutItem"),
        _client_error("ConditionalCheckFailedException", "UpdateItem"),
        PutError("Failed to put item", _client_error("ValidationException", "PutItem")),
        sqlite3.OperationalError("no such table: items"),
        ValueError("bug"),
    ],
)
def test_other_failures_are_not_unavailable(failure):
    assert not unavailable(failure)
