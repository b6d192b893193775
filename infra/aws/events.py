"""Events: the annotations stream's consumer, and the queue for outbound deliveries (webhooks)."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.aws.app_functions import AppFunctions


def _queue(scope: Construct, construct_id: str, **kwargs) -> sqs.Queue:
    return sqs.Queue(
        scope, construct_id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True, **kwargs
    )


class Events(Construct):
    """`consumer` reads the annotations stream in batches and reports the records that failed, so one bad
    record is retried (bisected) alone; after `retry_attempts` a record's position goes to `stream_dlq`.
    `deliveries` carries outbound requests (webhooks), retried by SQS and parked in `deliveries_dlq`;
    `deliverer` sends them.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, functions: AppFunctions, annotations: dynamodb.ITable
    ):
        super().__init__(scope, construct_id)
        self.stream_dlq = _queue(self, "StreamDeadLetters", retention_period=Duration.days(14))
        self.deliveries_dlq = _queue(self, "DeliveriesDeadLetters", retention_period=Duration.days(14))
        self.deliveries = _queue(
            self,
            "Deliveries",
            visibility_timeout=Duration.minutes(2),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.deliveries_dlq, max_receive_count=5),
        )
        self.consumer = functions.new(
            self,
            "Consumer",
            handler="functions.handlers.events.handler",
            service="events",
            timeout=Duration.minutes(1),
            memory_size=512,
        )
        self.consumer.add_event_source(
            sources.DynamoEventSource(
                annotations,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=100,
                max_batching_window=Duration.seconds(1),
                bisect_batch_on_error=True,
                report_batch_item_failures=True,
                retry_attempts=5,
                on_failure=sources.SqsDlq(self.stream_dlq),
            )
        )
        self.deliveries.grant_send_messages(self.consumer)
        # Webhook deliveries: one message per delivery; a failed one is reported alone (partial batch
        # failures), offered again after the visibility timeout, and parked in `deliveries_dlq` after 5.
        self.deliverer = functions.new(
            self,
            "Deliverer",
            handler="functions.handlers.deliveries.handler",
            service="deliveries",
            timeout=Duration.seconds(30),
            memory_size=256,
        )
        self.deliverer.add_event_source(
            sources.SqsEventSource(
                self.deliveries,
                batch_size=10,
                max_batching_window=Duration.seconds(1),
                report_batch_item_failures=True,
            )
        )
        for function in (self.consumer, self.deliverer):
            function.add_environment("LABELSTACK_DELIVERIES_QUEUE", self.deliveries.queue_name)
        # Source storages' auto-sync: a bucket's ObjectCreated notifications invoke this function (its owner
        # adds the notification; see the README). S3 may invoke it for this account's buckets only.
        self.storage_events = functions.new(
            self,
            "StorageEvents",
            handler="functions.handlers.storage_events.handler",
            service="storage-events",
            timeout=Duration.minutes(5),
            memory_size=512,
        )
        self.storage_events.add_permission(
            "S3Notifications",
            principal=iam.ServicePrincipal("s3.amazonaws.com"),
            source_account=Stack.of(self).account,
        )
