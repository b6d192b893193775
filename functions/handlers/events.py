"""The events Lambda: the annotations table's stream, one record at a time, partial batch failures reported.

This is where what reacts to annotation changes is listed; the local event pump (infra/event_pump.py) runs
the same handler, or one built with `stream_handler` over other subscribers."""

from collections.abc import Callable, Sequence

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.events import annotation_changes, target_storage, webhooks
from functions.services import training

logger = Logger(service="labelstack-events")

# In this order: target storage writes one object per annotation, webhooks queue their deliveries, training
# starts the runs that are due.
SUBSCRIBERS: tuple[annotation_changes.Subscriber, ...] = (
    target_storage.on_annotation_change,
    webhooks.on_annotation_change,
    training.on_annotation_change,
)


def stream_handler(subscribers: Sequence[annotation_changes.Subscriber]) -> Callable[[dict, object], dict]:
    """A Lambda handler for the annotations stream that gives each change to `subscribers`, in order."""
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

    def record_handler(record: DynamoDBRecord) -> None:
        annotation_changes.publish(annotation_changes.from_stream_record(record), subscribers)

    @logger.inject_lambda_context
    def handle(event, context):
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return handle


handler = stream_handler(SUBSCRIBERS)
