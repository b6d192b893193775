"""The `sqlite` engine's table streams: the rows `dynamodb.py` writes to `changes` in each writing
transaction, read back as DynamoDB Streams records for the local event pump.

A record leaves the log only when the pump acknowledges it (after the subscribers handled it, or gave up),
so a restart resumes where delivery stopped: nothing handled is offered again, nothing pending is lost.
Records come in commit order, which keeps every item's changes in order as a stream shard does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from functions.store.sqlite.database import Database


def pending(db: Database, table_name: str, after: int = 0, limit: int = 100) -> list[dict]:
    """Unacknowledged records of `table_name` with a sequence number above `after`, oldest first."""
    rows = db.connection().execute(
        "SELECT seq, event, keys, old, new, at FROM changes WHERE tbl = ? AND seq > ? ORDER BY seq LIMIT ?",
        (table_name, after, limit),
    )
    records = []
    for seq, event, keys, old, new, at in rows:
        stream: dict = {
            "ApproximateCreationDateTime": int(at),
            "Keys": json.loads(keys),
            "SequenceNumber": f"{seq:021d}",
            "SizeBytes": len(keys) + len(old or "") + len(new or ""),
            "StreamViewType": "NEW_AND_OLD_IMAGES" if old and new else "NEW_IMAGE" if new else "OLD_IMAGE",
        }
        if new is not None:
            stream["NewImage"] = json.loads(new)
        if old is not None:
            stream["OldImage"] = json.loads(old)
        records.append(
            {
                "eventID": str(seq),
                "eventName": event,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "local",
                "dynamodb": stream,
            }
        )
    return records


def acknowledge(db: Database, sequence_numbers: Iterable[str]) -> None:
    """Drop handled records from the log."""
    seqs = [(int(s),) for s in sequence_numbers]
    if seqs:
        with db.write() as conn:
            conn.executemany("DELETE FROM changes WHERE seq = ?", seqs)
