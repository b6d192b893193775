"""The storage events Lambda: S3 object-created notifications of a source storage's bucket, imported
as they arrive (auto-sync). A failure raises, so Lambda retries the event."""

from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source

from functions.services import storages

logger = Logger(service="labelstack-storage-events")


@logger.inject_lambda_context
@event_source(data_class=S3Event)
def handler(event: S3Event, context):
    keys: dict[str, list[str]] = {}
    for record in event.records:
        if record.event_name.startswith("ObjectCreated"):
            # S3 sends keys URL-encoded (spaces as '+').
            keys.setdefault(record.s3.bucket.name, []).append(unquote_plus(record.s3.get_object.key))
    created = sum(storages.sync_objects(bucket, bucket_keys) for bucket, bucket_keys in keys.items())
    return {"created": created}
