"""The SQS operations the webhook deliveries use, kept in the `sqlite` engine's database.

In AWS the stream consumer queues deliveries on SQS and the deliveries Lambda receives them; one machine
has no SQS, and an in-memory queue would forget deliveries queued just before a crash. This keeps the
messages in SQLite with SQS's semantics the store and the delivery pump rely on: a received message is
invisible for the visibility timeout, `ApproximateReceiveCount` grows per receive, and past the redrive
policy's `maxReceiveCount` a message moves to the dead-letter queue.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid

from functions.store.sqlite.database import Database
from functions.store.sqlite.dynamodb import error

_URL = "local://sqs/"


def _name(url: str) -> str:
    return url.removeprefix(_URL)


class SqliteSQS:
    """Stands in for a boto3 SQS client (the calls `functions.store.webhooks` and the pump make)."""

    def __init__(self, database: Database, region: str = "local"):
        self.db = database
        self.region = region

    def _arn(self, name: str) -> str:
        return f"arn:aws:sqs:{self.region}:000000000000:{name}"

    def _attributes(self, name: str) -> dict:
        row = self.db.connection().execute("SELECT attributes FROM queues WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise error("GetQueueUrl", "AWS.SimpleQueueService.NonExistentQueue", f"no queue named {name}")
        return json.loads(row[0])

    def create_queue(self, QueueName: str, Attributes: dict | None = None) -> dict:
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO queues (name, attributes) VALUES (?, ?)",
                (QueueName, json.dumps(Attributes or {})),
            )
        return {"QueueUrl": _URL + QueueName}

    def get_queue_url(self, QueueName: str) -> dict:
        self._attributes(QueueName)
        return {"QueueUrl": _URL + QueueName}

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str] | None = None) -> dict:
        name = _name(QueueUrl)
        attributes = dict(self._attributes(name), QueueArn=self._arn(name))
        count = (
            self.db.connection()
            .execute("SELECT count(*) FROM queue_messages WHERE queue = ?", (name,))
            .fetchone()[0]
        )
        attributes["ApproximateNumberOfMessages"] = str(count)
        return {"Attributes": attributes}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        name, now = _name(QueueUrl), time.time()
        self._attributes(name)
        successful = []
        with self.db.write() as conn:
            for entry in Entries:
                message_id = str(uuid.uuid4())
                conn.execute(
                    "INSERT INTO queue_messages (queue, message_id, body, sent_at, visible_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (name, message_id, entry["MessageBody"], now, now + float(entry.get("DelaySeconds", 0))),
                )
                successful.append({"Id": entry["Id"], "MessageId": message_id})
        return {"Successful": successful, "Failed": []}

    def send_message(self, QueueUrl: str, MessageBody: str, DelaySeconds: int = 0) -> dict:
        answer = self.send_message_batch(
            QueueUrl, [{"Id": "0", "MessageBody": MessageBody, "DelaySeconds": DelaySeconds}]
        )
        return {"MessageId": answer["Successful"][0]["MessageId"]}

    def receive_message(
        self,
        QueueUrl: str,
        MaxNumberOfMessages: int = 1,
        VisibilityTimeout: int | None = None,
        **_: object,
    ) -> dict:
        name, now = _name(QueueUrl), time.time()
        attributes = self._attributes(name)
        hidden_for = float(
            VisibilityTimeout if VisibilityTimeout is not None else attributes.get("VisibilityTimeout", 30)
        )
        redrive = json.loads(attributes["RedrivePolicy"]) if "RedrivePolicy" in attributes else None
        messages = []
        with self.db.write() as conn:
            rows = conn.execute(
                "SELECT id, message_id, body, sent_at, receive_count FROM queue_messages "
                "WHERE queue = ? AND visible_at <= ? ORDER BY id LIMIT ?",
                (name, now, max(1, min(10, MaxNumberOfMessages))),
            ).fetchall()
            for row_id, message_id, body, sent_at, count in rows:
                if redrive and count >= int(redrive["maxReceiveCount"]):
                    dead_letter = redrive["deadLetterTargetArn"].rsplit(":", 1)[1]
                    conn.execute(
                        "UPDATE queue_messages SET queue = ?, receive_count = 0 WHERE id = ?",
                        (dead_letter, row_id),
                    )
                    continue
                receipt = f"{message_id}:{count + 1}"
                conn.execute(
                    "UPDATE queue_messages SET receive_count = ?, visible_at = ?, receipt = ? WHERE id = ?",
                    (count + 1, now + hidden_for, receipt, row_id),
                )
                messages.append(
                    {
                        "MessageId": message_id,
                        "ReceiptHandle": receipt,
                        "Body": body,
                        "MD5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
                        "Attributes": {
                            "ApproximateReceiveCount": str(count + 1),
                            "SentTimestamp": str(int(sent_at * 1000)),
                        },
                    }
                )
        return {"Messages": messages} if messages else {}

    def change_message_visibility(self, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int) -> dict:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE queue_messages SET visible_at = ? WHERE queue = ? AND receipt = ?",
                (time.time() + VisibilityTimeout, _name(QueueUrl), ReceiptHandle),
            )
        return {}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> dict:
        with self.db.write() as conn:
            conn.execute(
                "DELETE FROM queue_messages WHERE queue = ? AND receipt = ?", (_name(QueueUrl), ReceiptHandle)
            )
        return {}

    def purge_queue(self, QueueUrl: str) -> dict:
        with self.db.write() as conn:
            conn.execute("DELETE FROM queue_messages WHERE queue = ?", (_name(QueueUrl),))
        return {}
