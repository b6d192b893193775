"""Task images from an S3 source storage render in the labeling view of the local stack.

Their presigned URLs point at the local AWS emulator (plain http on 127.0.0.1): the page's
Content-Security-Policy must allow exactly that origin, in the header and in index.html's <meta> alike.
"""

from __future__ import annotations

import struct
import time
import zlib

import boto3
from playwright.sync_api import expect

from tests.web.conftest import END_OF_QUEUE, screenshot, sign_in

CONFIG = """<View>
  <Image name="image" value="$image"/>
  <Choices name="animal" toName="image" choice="single"><Choice value="Cat"/><Choice value="Dog"/></Choices>
</View>"""
WIDTH, HEIGHT = 64, 40


def _png(width: int, height: int) -> bytes:
    """A solid orange PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([242, 165, 65]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _synced_storage_project(http, emulator: str) -> int:
    s3 = boto3.client(
        "s3",
        endpoint_url=emulator,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )  # the emulator takes any
    s3.create_bucket(Bucket="ui-media")
    s3.put_object(Bucket="ui-media", Key="animals/one.png", Body=_png(WIDTH, HEIGHT), ContentType="image/png")
    project = http.post("/api/projects", json={"title": "Animals", "label_config": CONFIG})
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    storage = http.post(
        "/api/storages/s3",
        json={
            "project": project_id,
            "title": "animals",
            "bucket": "ui-media",
            "prefix": "animals/",
            "use_blob_urls": True,
            "presign": True,
        },
    )
    assert storage.status_code == 201, storage.text
    path = f"/api/storages/s3/{storage.json()['id']}"
    assert http.post(f"{path}/sync").status_code == 200
    deadline = time.monotonic() + 30
    while (status := http.get(path).json()["status"]) not in ("completed", "completed_with_errors", "failed"):
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert status == "completed", http.get(path).json()
    return project_id


def test_an_s3_image_on_the_local_emulator_renders_in_the_labeling_view(
    page, admin_http, local_stack_banner, expected
):
    expected.response(*END_OF_QUEUE)  # the one task labeled, the stream ends
    emulator = local_stack_banner["aws emulator"]
    project_id = _synced_storage_project(admin_http, emulator)
    [task] = admin_http.get("/api/tasks", params={"project": project_id, "fields": "all"}).json()["tasks"]
    assert task["data"]["image"] == "s3://ui-media/animals/one.png"

    from_emulator: list[int] = []
    page.on(
        "response",
        lambda r: r.url.startswith(f"{emulator}/ui-media/animals/one.png") and from_emulator.append(r.status),
    )
    sign_in(page)
    page.goto(f"/#/projects/{project_id}/label")
    image = page.locator(".lsf-root img").first
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [WIDTH, HEIGHT]
    assert from_emulator == [200]  # through the presign redirect, from the emulator itself
    policy = page.evaluate("fetch('/').then(r => r.headers.get('content-security-policy'))")
    assert f"img-src 'self' data: blob: https: {emulator};" in policy  # that origin, and no other http
    assert policy.count("http:") == 3  # img-src, media-src and connect-src name the emulator, nothing else
    page.locator(".lsf-root label", has_text="Cat").first.click()
    screenshot(page, "20-image-from-emulator")
    page.get_by_role("button", name="submit", exact=True).click()
    page.get_by_test_id("no-more-tasks").wait_for()
