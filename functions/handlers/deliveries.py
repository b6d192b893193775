"""The deliveries Lambda: webhook deliveries off the SQS queue, one message at a time; a failed delivery
is reported as a batch item failure, so SQS retries it alone (then parks it in the dead-letter queue)."""

import json

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from functions.services import webhooks

logger = Logger(service="labelstack-deliveries")
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    attempt = int(record.attributes.approximate_receive_count or 1)
    return webhooks.deliver(json.loads(record.body), attempt)


@logger.inject_lambda_context
def handler(event, context):
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
