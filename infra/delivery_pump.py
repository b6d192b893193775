"""The local stack's webhook deliveries: what the deliveries Lambda's SQS trigger does in AWS.

The emulator has the same two queues as the stack (`provision_queues`): the deliveries queue with a redrive
policy (`maxReceiveCount` = `LABELSTACK_WEBHOOK_MAX_ATTEMPTS`, 5) onto its dead-letter queue. The pump
receives messages and hands them to the same handler the Lambda runs (`functions.handlers.deliveries`), in
Lambda's event shape; delivered ones are deleted, failed ones become visible again after `retry_after`
seconds (AWS: the queue's visibility timeout), and SQS itself moves a message that failed its last
attempt to the dead-letter queue.

`drain()` handles what is receivable now, retries included, and returns; `start()` does that on a daemon
thread every `interval` seconds until `stop()`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from infra.event_pump import Polling, _LocalContext

logger = logging.getLogger(__name__)


def dead_letter_queue_name(queue_name: str) -> str:
    return f"{queue_name}-dlq"


def provision_queues() -> None:
    """Create the deliveries queue and its dead-letter queue, as infra/aws/events.py does in AWS."""
    from functions.settings import get_settings
    from functions.store.aws_clients import client

    settings, sqs = get_settings(), client("sqs")
    dlq_url = sqs.create_queue(QueueName=dead_letter_queue_name(settings.deliveries_queue))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.create_queue(
        QueueName=settings.deliveries_queue,
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(settings.webhook_max_attempts)}
            ),
        },
    )


def sqs_event(messages: list[dict], queue_arn: str) -> dict:
    """The event Lambda's SQS trigger sends for `messages` as ReceiveMessage returned them."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for m in messages
        ]
    }


@dataclass
class DeliveryPump(Polling):
    interval: float = 1.0
    retry_after: int = 5  # seconds until a failed delivery is offered again
    max_rounds: int = 100  # receives per drain, so a receiver that always fails cannot hold it forever

    def drain(self) -> int:
        """Deliver every receivable message once per round until none is left; the number handled."""
        from functions.handlers import deliveries
        from functions.store import webhooks as webhook_store
        from functions.store.aws_clients import client

        sqs, url = client("sqs"), webhook_store.queue_url()
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        handled = 0
        for _ in range(self.max_rounds):
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                break
            event = sqs_event(messages, arn)
            try:
                answer = deliveries.handler(event, _LocalContext())
                failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
            except Exception:  # Powertools raises when every record failed
                logger.exception("every delivery of a batch failed")
                failed = {m["MessageId"] for m in messages}
            for message in messages:
                if message["MessageId"] in failed:
                    sqs.change_message_visibility(
                        QueueUrl=url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=self.retry_after,
                    )
                else:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            handled += len(messages)
        return handled
