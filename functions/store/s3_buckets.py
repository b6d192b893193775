"""The buckets of cloud storages, reached as the storage: with its own keys, a role it assumes, or (no keys,
AWS's own endpoint) this deployment's credentials, which only reach the buckets the deployment was granted.

A storage with a custom `s3_endpoint` always signs with its own keys. Its endpoint is a URL a manager
chose, so the caller resolves and checks it with the SSRF guard at each use and hands the checked
address in; every request then goes to that address (the Host header and TLS name stay the endpoint's),
so a host name that later resolves elsewhere cannot redirect a sync. S3's errors come out as
BucketUnavailable, whose message never carries credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import boto3
import urllib3
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
    SSLError,
)
from urllib3 import exceptions as urllib3_errors

from functions.domain.storage import Storage
from functions.settings import get_settings
from functions.store.aws_clients import client

CONNECT_SECONDS = 5
READ_SECONDS = 30
# A target sync writes from 8 threads through one client.
POOL_CONNECTIONS = 10


class BucketUnavailable(Exception):
    """S3 refused or failed a storage's request (or the storage cannot be reached as configured)."""


def s3_error(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip(": ")
    return type(exc).__name__ + (f": {exc}" if str(exc) else "")


@contextmanager
def _s3_errors():
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise BucketUnavailable(s3_error(exc)) from None


def _credentials(storage: Storage) -> dict:
    if storage.s3_endpoint and not storage.aws_access_key_id:
        # Refused at create; a storage saved before that rule still never gets this deployment's keys.
        raise BucketUnavailable("a storage with a custom s3_endpoint needs access keys of its own")
    if storage.role_arn:
        with _s3_errors():
            assumed = client("sts").assume_role(
                RoleArn=storage.role_arn,
                RoleSessionName=f"labelstack-storage-{storage.id}",
                **({"ExternalId": storage.external_id} if storage.external_id else {}),
            )["Credentials"]
        return {
            "aws_access_key_id": assumed["AccessKeyId"],
            "aws_secret_access_key": assumed["SecretAccessKey"],
            "aws_session_token": assumed["SessionToken"],
        }
    if storage.aws_access_key_id:
        return {
            "aws_access_key_id": storage.aws_access_key_id,
            "aws_secret_access_key": storage.aws_secret_access_key,
            "aws_session_token": storage.aws_session_token,
        }
    return {}


def _client(storage: Storage):
    settings = get_settings()
    region = storage.region_name or settings.region
    credentials = _credentials(storage)
    if not credentials and not storage.s3_endpoint and region == settings.region:
        return client("s3")
    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        s3={"addressing_style": "path"},
        connect_timeout=CONNECT_SECONDS,
        read_timeout=READ_SECONDS,
    )
    return boto3.session.Session().client(
        "s3",
        region_name=region,
        endpoint_url=storage.s3_endpoint or settings.aws_endpoint_url,
        config=config,
        **credentials,
    )


class _PinnedSender:
    """botocore's `before-send` hook for a custom endpoint: sends each request to the checked address.

    botocore signs for the endpoint's host name; this hook opens the connection to `address` instead of
    resolving the name again, with the same Host header and (https) the same TLS name and certificate
    check. A request for any other host is refused rather than sent unchecked."""

    def __init__(self, endpoint: str, address: str):
        parts = urlsplit(endpoint)
        self._scheme = parts.scheme.lower()
        self._host = (parts.hostname or "").lower().rstrip(".")
        self._port = parts.port or (443 if self._scheme == "https" else 80)
        timeout = urllib3.Timeout(connect=CONNECT_SECONDS, read=READ_SECONDS)
        self._pool: urllib3.HTTPConnectionPool
        if self._scheme == "https":
            self._pool = urllib3.HTTPSConnectionPool(
                address,
                self._port,
                timeout=timeout,
                maxsize=POOL_CONNECTIONS,
                server_hostname=self._host,
                assert_hostname=self._host,
                cert_reqs="CERT_REQUIRED",
            )
        else:
            self._pool = urllib3.HTTPConnectionPool(
                address, self._port, timeout=timeout, maxsize=POOL_CONNECTIONS
            )

    def __call__(self, request, **_):
        parts = urlsplit(request.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if (parts.hostname or "").lower().rstrip(".") != self._host or port != self._port:
            raise HTTPClientError(error=f"refused a request to {parts.hostname}, not the storage's endpoint")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = dict(request.headers.items())
        headers["Host"] = parts.netloc
        try:
            raw = self._pool.urlopen(
                request.method,
                path,
                body=request.body,
                headers=headers,
                redirect=False,
                retries=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
            )
        except urllib3_errors.ConnectTimeoutError as exc:
            raise ConnectTimeoutError(endpoint_url=request.url, error=exc) from None
        except urllib3_errors.ReadTimeoutError as exc:
            raise ReadTimeoutError(endpoint_url=request.url, error=exc) from None
        except urllib3_errors.SSLError as exc:
            raise SSLError(endpoint_url=request.url, error=exc) from None
        except urllib3_errors.NewConnectionError as exc:
            raise EndpointConnectionError(endpoint_url=request.url, error=exc) from None
        except urllib3_errors.ProtocolError as exc:
            raise ConnectionClosedError(endpoint_url=request.url, error=exc) from None
        except urllib3_errors.HTTPError as exc:
            raise HTTPClientError(error=exc) from None
        response = AWSResponse(request.url, raw.status, raw.headers, raw)
        if not request.stream_output:
            response.content  # noqa: B018 - read now and give the connection back, as botocore does
        return response


class StorageBucket:
    """A storage's bucket, connected as the storage. `endpoint_address` is the checked address of its
    custom `s3_endpoint` (required when it has one)."""

    def __init__(self, storage: Storage, endpoint_address: str | None = None):
        self.name = storage.bucket
        self._s3 = _client(storage)
        if storage.s3_endpoint:
            if not endpoint_address:
                raise ValueError("a custom s3_endpoint is reached only through its checked address")
            self._s3.meta.events.register_first(
                "before-send.s3", _PinnedSender(storage.s3_endpoint, endpoint_address)
            )

    def has_objects(self, prefix: str) -> bool:
        with _s3_errors():
            found = self._s3.list_objects_v2(Bucket=self.name, Prefix=prefix, MaxKeys=1)
        return bool(found.get("KeyCount"))

    def check_exists(self) -> None:
        with _s3_errors():
            self._s3.head_bucket(Bucket=self.name)

    def pages(self, prefix: str, *, recursive: bool) -> Iterator[dict[str, int]]:
        """The objects under `prefix`, a ListObjectsV2 page (up to 1,000 keys) at a time: key -> size.
        Not recursive: only the keys directly under the prefix."""
        listing = {"Bucket": self.name, "Prefix": prefix}
        if not recursive:
            listing["Delimiter"] = "/"
        paginator = self._s3.get_paginator("list_objects_v2")
        with _s3_errors():
            for page in paginator.paginate(**listing, PaginationConfig={"PageSize": 1000}):
                yield {o["Key"]: o.get("Size", 0) for o in page.get("Contents", [])}

    def read(self, key: str, limit: int) -> bytes:
        """The object's bytes, at most `limit` + 1 of them (so the caller sees it is too large)."""
        with _s3_errors():
            return self._s3.get_object(Bucket=self.name, Key=key)["Body"].read(limit + 1)

    def put_json(self, key: str, body: bytes, kms_key_id: str | None = None) -> None:
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
        with _s3_errors():
            self._s3.put_object(Bucket=self.name, Key=key, Body=body, ContentType="application/json", **extra)

    def delete(self, key: str) -> None:
        with _s3_errors():
            self._s3.delete_object(Bucket=self.name, Key=key)


def presigned_get(storage: Storage, key: str, seconds: int) -> str:
    """A URL that reads the storage's object for `seconds`, signed as the storage. Nothing is sent to
    the storage's endpoint (the browser fetches the URL), so no address is needed."""
    with _s3_errors():
        return _client(storage).generate_presigned_url(
            "get_object", Params={"Bucket": storage.bucket, "Key": key}, ExpiresIn=seconds
        )
