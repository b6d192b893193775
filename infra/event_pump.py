"""The local stack's event pump: what the events Lambda's stream trigger does in AWS.

It reads the annotations table's stream (the emulator's, or the `sqlite` engine's change log) and hands each
batch to the same handler the events Lambda runs (`functions.handlers.events.handler`), in Lambda's event
shape; given `subscribers`, the same handler built over those instead of the Lambda's list. Records the
handler reports as failed are offered again, up to `max_attempts` times (AWS: the event source mapping's
retries, then the dead-letter queue), so subscribers see the retry behaviour they get in AWS.

`drain()` reads everything pending once and returns; `start()` does that on a daemon thread every `interval`
seconds until `stop()`.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from functions.events.annotation_changes import Subscriber

logger = logging.getLogger(__name__)


class _LocalContext:
    """What Powertools reads off a Lambda context."""

    function_name = "labelstack-local-events"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:labelstack-local-events"
    aws_request_id = "local"


def _lambda_record(record: dict, stream_arn: str) -> dict:
    """A `dynamodbstreams.get_records` record in the shape a Lambda trigger delivers it."""
    stream = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if hasattr(created, "timestamp"):
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        **{k: v for k, v in record.items() if k != "dynamodb"},
        "dynamodb": stream,
        "eventSourceARN": stream_arn,
    }


class Polling(ABC):
    """`start()` calls `drain()` on a daemon thread every `interval` seconds until `stop()`; a failing
    round is logged and the next one runs (the emulator shutting down must not take the server with it)."""

    interval: float

    @abstractmethod
    def drain(self) -> int:
        """Deliver what is pending now; the number of items handled."""

    def start(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"labelstack-{type(self).__name__}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.drain()
            except Exception:
                logger.exception("%s round failed", type(self).__name__)

    def stop(self) -> None:
        if getattr(self, "_thread", None) is not None:
            self._stop.set()
            self._thread.join(timeout=10)
            self._thread = None


@dataclass
class EventPump(Polling):
    table_short_name: str = "annotations"
    interval: float = 0.5
    batch_size: int = 100
    max_attempts: int = 3
    subscribers: Sequence[Subscriber] | None = None
    _iterators: dict[str, str | None] = field(default_factory=dict)
    _retries: list[tuple[int, dict]] = field(default_factory=list)
    _log_position: int = 0

    def _stream_arn(self) -> str:
        from functions.settings import get_settings
        from functions.store.aws_clients import client

        settings = get_settings()
        name = settings.table_name(self.table_short_name)
        if settings.store_engine == "sqlite":
            return f"arn:aws:dynamodb:{settings.region}:000000000000:table/{name}/stream/local"
        return client("dynamodb").describe_table(TableName=name)["Table"]["LatestStreamArn"]

    def _read(self, streams, stream_arn: str) -> list[dict]:
        records = []
        shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = streams.get_shard_iterator(
                    StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            while iterator:
                answer = streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
                records.extend(answer["Records"])
                iterator = answer.get("NextShardIterator")
                self._iterators[shard_id] = iterator
                if not answer["Records"]:
                    break
        return records

    def _read_change_log(self, stream_arn: str) -> list[dict]:
        """The `sqlite` engine's stream: its change log, from the first record not yet read this run (a
        restart reads again what was never acknowledged)."""
        from functions.settings import get_settings
        from functions.store.sqlite import changes
        from functions.store.sqlite.database import open_database

        settings = get_settings()
        db = open_database(settings.data_dir or ".")
        records = changes.pending(db, settings.table_name(self.table_short_name), self._log_position, 1000)
        if records:
            self._log_position = int(records[-1]["dynamodb"]["SequenceNumber"])
        return records

    def _acknowledge(self, records: list[dict]) -> None:
        from functions.settings import get_settings

        settings = get_settings()
        if settings.store_engine == "sqlite" and records:
            from functions.store.sqlite import changes
            from functions.store.sqlite.database import open_database

            changes.acknowledge(
                open_database(settings.data_dir or "."), [r["dynamodb"]["SequenceNumber"] for r in records]
            )

    def drain(self) -> int:
        """Deliver every pending record (and due retries) once; the number of records delivered."""
        from functions.handlers import events
        from functions.settings import get_settings
        from functions.store.aws_clients import client

        handler = events.handler if self.subscribers is None else events.stream_handler(self.subscribers)
        stream_arn = self._stream_arn()
        if get_settings().store_engine == "sqlite":
            read = self._read_change_log(stream_arn)
        else:
            read = self._read(client("dynamodbstreams"), stream_arn)
        fresh = [(1, _lambda_record(r, stream_arn)) for r in read]
        pending, self._retries = self._retries + fresh, []
        for start in range(0, len(pending), self.batch_size):
            batch = pending[start : start + self.batch_size]
            try:
                answer = handler({"Records": [record for _, record in batch]}, _LocalContext())
                failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
            except Exception:  # every record failed (Powertools raises then): all are retried
                logger.exception("the events handler failed a whole batch")
                failed = {record["dynamodb"]["SequenceNumber"] for _, record in batch}
            done = []
            for attempt, record in batch:
                if record["dynamodb"]["SequenceNumber"] not in failed:
                    done.append(record)
                elif attempt < self.max_attempts:
                    self._retries.append((attempt + 1, record))
                else:
                    done.append(record)
                    logger.error(
                        "dropping stream record %s after %d attempts (AWS: the dead-letter queue)",
                        record["dynamodb"]["SequenceNumber"],
                        attempt,
                    )
            self._acknowledge(done)
        return len(pending)
