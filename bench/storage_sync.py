"""Benchmark: sync a source storage of N blob objects (default 10,000) in moto, twice.

Run: `.venv/bin/python -m bench.storage_sync [N]`. Prints the first sync's rate and calls, and checks that
the second sync creates nothing. (tests/api/test_storages.py runs the same 10,000 through the API.)
"""

from __future__ import annotations

import os
import sys
import time

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
)
os.environ.pop("LABELSTACK_AWS_ENDPOINT_URL", None)


def main(count: int) -> None:
    from moto import mock_aws

    with mock_aws():
        from functions.domain.records import User
        from functions.services import projects, storages
        from functions.services.identity import ensure_admin
        from functions.store import storages as storage_store
        from functions.store.aws_clients import client
        from infra.local_stack import apply_settings, provision

        apply_settings({})
        provision()
        admin, _ = ensure_admin("bench@example.com", "bench-token")
        project = projects.create_project(
            admin,
            {
                "title": "bench",
                "label_config": (
                    '<View><Image name="image" value="$image"/><Choices name="c" toName="image">'
                    '<Choice value="a"/></Choices></View>'
                ),
            },
        )
        s3 = client("s3")
        s3.create_bucket(Bucket="bench-source")
        for i in range(count):
            s3.put_object(Bucket="bench-source", Key=f"img/{i:06d}.jpg", Body=b"x")
        storage = storages.create(
            admin,
            "import",
            {"project": project.id, "bucket": "bench-source", "prefix": "img", "use_blob_urls": True},
        )
        assert isinstance(admin, User)
        started = time.monotonic()
        first = storages.run_sync(storage.id, "import")
        elapsed = time.monotonic() - started
        again = time.monotonic()
        second = storages.run_sync(storage.id, "import")
        second_elapsed = time.monotonic() - again
        final = storage_store.get(storage.id, "import")
        print(
            f"{count} objects: first sync created {first['created']} tasks in {elapsed:.1f}s "
            f"({first['created'] / elapsed:.0f} objects/s); second created {second['created']} "
            f"({second['tasks_existed']} existed) in {second_elapsed:.1f}s; status {final.status}"
        )
        assert first["created"] == count and second["created"] == 0


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
