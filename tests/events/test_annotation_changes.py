"""The events Lambda over real DynamoDB stream records: each becomes an AnnotationChange for every
subscriber, and a record whose subscriber fails is reported alone for the stream to retry."""

from __future__ import annotations

import pytest
from boto3.dynamodb.types import TypeSerializer

from functions.events import annotation_changes
from functions.handlers import events

_serialize = TypeSerializer().serialize


def stream_record(name: str, sequence: str, new: dict | None = None, old: dict | None = None) -> dict:
    image = {}
    if new is not None:
        image["NewImage"] = {key: _serialize(value) for key, value in new.items()}
    if old is not None:
        image["OldImage"] = {key: _serialize(value) for key, value in old.items()}
    item = new or old
    return {
        "eventID": sequence,
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": (
            "arn:aws:dynamodb:us-east-1:123456789012:table/labelstack-test-annotations/stream/x"
        ),
        "dynamodb": {
            "Keys": {"id": _serialize(item["id"])},
            "SequenceNumber": sequence,
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            **image,
        },
    }


class LambdaContext:
    function_name = "labelstack-test-events"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:labelstack-test-events"
    aws_request_id = "request-1"


@pytest.fixture
def received():
    return []


@pytest.fixture
def handler(received):
    """The events Lambda's handler, over one subscriber that keeps what it gets."""
    return events.stream_handler([received.append])


def annotation(annotation_id: int, **fields) -> dict:
    return {"id": annotation_id, "task_id": 7, "project_id": 3, "was_cancelled": False, **fields}


def test_inserts_updates_and_removes_become_created_updated_deleted(handler, received):
    event = {
        "Records": [
            stream_record("INSERT", "1", new=annotation(11, result='[{"type": "choices"}]')),
            stream_record("MODIFY", "2", new=annotation(11, version=2), old=annotation(11, version=1)),
            stream_record("REMOVE", "3", old=annotation(11)),
        ]
    }
    assert handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert [(c.action, c.annotation_id, c.project_id, c.task_id) for c in received] == [
        ("created", 11, 3, 7),
        ("updated", 11, 3, 7),
        ("deleted", 11, 3, 7),
    ]
    created, updated, deleted = received
    assert created.old is None and created.new["result"] == '[{"type": "choices"}]'
    assert updated.old["version"] == 1 and updated.new["version"] == 2
    assert deleted.new is None and deleted.old["id"] == 11
    assert isinstance(created.annotation_id, int)


def test_a_failing_record_is_reported_alone():
    delivered = []

    def picky(change):
        if change.annotation_id == 12:
            raise RuntimeError("target bucket unavailable")
        delivered.append(change.annotation_id)

    event = {
        "Records": [
            stream_record("INSERT", "1", new=annotation(11)),
            stream_record("INSERT", "2", new=annotation(12)),
            stream_record("INSERT", "3", new=annotation(13)),
        ]
    }
    assert events.stream_handler([picky])(event, LambdaContext()) == {
        "batchItemFailures": [{"itemIdentifier": "2"}]
    }
    assert delivered == [11, 13]


def test_a_record_without_images_is_a_failure_naming_the_stream_setting(handler, received):
    record = stream_record("INSERT", "9", new=annotation(1))
    del record["dynamodb"]["NewImage"]
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    with pytest.raises(ValueError, match="NEW_AND_OLD_IMAGES"):
        annotation_changes.from_stream_record(DynamoDBRecord(record))
    good = stream_record("INSERT", "10", new=annotation(2))
    assert handler({"Records": [record, good]}, LambdaContext()) == {
        "batchItemFailures": [{"itemIdentifier": "9"}]
    }
    assert [change.annotation_id for change in received] == [2]
