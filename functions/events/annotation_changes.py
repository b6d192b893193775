"""Annotation changes, read off the annotations table's stream.

The stream consumer (`functions/handlers/events.py`, the events Lambda in AWS) turns each record into one
`AnnotationChange` and passes it to each of the subscribers it was given, in order; that handler lists what
reacts to annotations (target storage, webhooks, training triggers). A subscriber that raises makes its
record fail alone, and the stream retries that record (see the handler).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

_ACTIONS = {"INSERT": "created", "MODIFY": "updated", "REMOVE": "deleted"}


@dataclass(frozen=True)
class AnnotationChange:
    action: str  # "created" | "updated" | "deleted", as Label Studio's ANNOTATION_* webhook events
    annotation_id: int
    project_id: int
    task_id: int
    new: dict[str, Any] | None  # the stored item after the change (None when deleted)
    old: dict[str, Any] | None  # and before it (None when created)


Subscriber = Callable[[AnnotationChange], None]


def _int(value) -> int:
    # The stream deserializes numbers as Decimal.
    return int(value)


def from_stream_record(record: DynamoDBRecord) -> AnnotationChange:
    name = record.event_name.name if record.event_name else ""
    if name not in _ACTIONS:
        raise ValueError(f"not an item change: eventName {name!r}")
    # A stream record always carries `dynamodb`; powertools types it as optional.
    new, old = record.dynamodb.new_image or None, record.dynamodb.old_image or None  # type: ignore[union-attr]
    item = new or old
    if not item:
        raise ValueError("stream record has no item image: the table's stream must carry NEW_AND_OLD_IMAGES")
    return AnnotationChange(
        action=_ACTIONS[name],
        annotation_id=_int(item["id"]),
        project_id=_int(item["project_id"]),
        task_id=_int(item["task_id"]),
        new=new,
        old=old,
    )


def publish(change: AnnotationChange, subscribers: Iterable[Subscriber]) -> None:
    for subscriber in subscribers:
        subscriber(change)
