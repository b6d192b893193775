"""The files bucket as a directory: real files under tmp_path, and the signed URLs that let a browser read
them."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pytest
from botocore.response import StreamingBody

from functions.domain.errors import NotFound, PermissionDenied
from functions.store import local_files

SECRET = "an-installation-secret-long-enough-for-hmac"


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


class CountingReader(io.RawIOBase):
    """A file object that remembers the largest read asked of it (all-at-once would be -1 or the size)."""

    def __init__(self, data: bytes, fail_after: int | None = None):
        self.data, self.position, self.largest, self.fail_after = data, 0, 0, fail_after

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.fail_after is not None and self.position >= self.fail_after:
            raise ConnectionError("the client went away")
        size = len(buffer)
        self.largest = max(self.largest, size)
        chunk = self.data[self.position : self.position + size]
        buffer[: len(chunk)] = chunk
        self.position += len(chunk)
        return len(chunk)


def test_put_get_and_overwrite(tmp_path):
    local_files.put_bytes(tmp_path, "tasks/7/data.json", b'{"a": 1}')
    assert local_files.get_bytes(tmp_path, "tasks/7/data.json") == b'{"a": 1}'
    assert (tmp_path / "tasks" / "7" / "data.json").read_bytes() == b'{"a": 1}'
    local_files.put_bytes(tmp_path, "tasks/7/data.json", b"{}")
    assert local_files.get_bytes(tmp_path, "tasks/7/data.json") == b"{}"
    assert files_under(tmp_path) == ["tasks/7/data.json"]  # no temporary file left beside it


def test_a_missing_key_is_file_not_found_and_deleting_it_is_no_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        local_files.get_bytes(tmp_path, "imports/1/tasks.json")
    with pytest.raises(FileNotFoundError):
        next(local_files.iter_lines(tmp_path, "imports/1/tasks.json"))
    local_files.delete(tmp_path, "imports/1/tasks.json")


def test_delete_removes_the_file_and_the_directories_it_emptied(tmp_path):
    local_files.put_bytes(tmp_path, "annotations/1/result.json", b"[]")
    local_files.put_bytes(tmp_path, "annotations/2/result.json", b"[]")
    local_files.delete(tmp_path, "annotations/1/result.json")
    assert files_under(tmp_path) == ["annotations/2/result.json"]
    assert not (tmp_path / "annotations" / "1").exists()
    local_files.delete(tmp_path, "annotations/2/result.json")
    assert list(tmp_path.iterdir()) == [] and tmp_path.is_dir()  # the root itself stays


def test_upload_streams_a_multi_megabyte_file_object_in_chunks(tmp_path):
    data = os.urandom(5 * 1024 * 1024 + 123)
    body = CountingReader(data)
    local_files.upload(tmp_path, "exports/1/2/json.json", body)
    assert local_files.get_bytes(tmp_path, "exports/1/2/json.json") == data
    assert 0 < body.largest <= local_files.CHUNK_BYTES


def test_a_body_failing_mid_upload_leaves_no_file_under_the_key_and_keeps_the_old_one(tmp_path):
    data = os.urandom(3 * 1024 * 1024)
    with pytest.raises(ConnectionError):
        local_files.upload(tmp_path, "imports/1/tasks.json", CountingReader(data, fail_after=2 * 1024 * 1024))
    assert files_under(tmp_path) == []
    local_files.put_bytes(tmp_path, "imports/1/tasks.json", b"old")
    with pytest.raises(ConnectionError):
        local_files.upload(tmp_path, "imports/1/tasks.json", CountingReader(data, fail_after=1024 * 1024))
    assert local_files.get_bytes(tmp_path, "imports/1/tasks.json") == b"old"
    assert files_under(tmp_path) == ["imports/1/tasks.json"]


def test_a_process_killed_mid_write_leaves_the_old_file_and_a_stray_that_delete_prefix_clears(tmp_path):
    local_files.put_bytes(tmp_path, "exports/1/2/json.json", b"old")
    writer = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from functions.store import local_files

        def body():
            yield b"x" * (2 * 1024 * 1024)
            print("half", flush=True)
            time.sleep(60)
            yield b"never"

        class Body:
            chunks = body()
            def read(self, size=-1):
                return next(self.chunks, b"")

        local_files.upload(Path({str(tmp_path)!r}), "exports/1/2/json.json", Body())
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", writer],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == b"half\n"
        strays = [p for p in (tmp_path / "exports/1/2").iterdir() if p.name != "json.json"]
        assert [p.stat().st_size for p in strays] == [2 * 1024 * 1024]  # the half written so far
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert local_files.get_bytes(tmp_path, "exports/1/2/json.json") == b"old"
    assert local_files.delete_prefix(tmp_path, "exports/1/2/") == 1  # the stray goes, uncounted
    assert files_under(tmp_path) == []


LINES = [
    b'{"id": 1}\n{"id": 2}\r\n\n',
    b"no newline at the end",
    b"a\rb\r\nc\n",
    b"x" * (local_files.CHUNK_BYTES + 10) + b"\n" + b"y" * (local_files.CHUNK_BYTES - 1) + b"\r\nz",
    b"",
]


@pytest.mark.parametrize("data", LINES, ids=range(len(LINES)))
def test_iter_lines_splits_as_botocore_does(tmp_path, data):
    local_files.put_bytes(tmp_path, "exports/1/1/tasks.jsonl", data)
    expected = list(StreamingBody(io.BytesIO(data), len(data)).iter_lines())
    assert list(local_files.iter_lines(tmp_path, "exports/1/1/tasks.jsonl")) == expected


def test_delete_prefix_deletes_by_string_prefix_and_counts(tmp_path):
    for key in ("exports/1/2/json.json", "exports/1/2/csv.csv", "exports/1/20/json.json", "exports/3/x"):
        local_files.put_bytes(tmp_path, key, b"x")
    assert local_files.delete_prefix(tmp_path, "exports/1/2/") == 2
    assert files_under(tmp_path) == ["exports/1/20/json.json", "exports/3/x"]
    assert not (tmp_path / "exports" / "1" / "2").exists()
    local_files.put_bytes(tmp_path, "exports/1/2/json.json", b"x")
    assert local_files.delete_prefix(tmp_path, "exports/1/2") == 2  # as S3: 2 and 20 both start so
    assert local_files.delete_prefix(tmp_path, "exports/9/") == 0
    assert local_files.delete_prefix(tmp_path, "nothing-here/") == 0
    assert files_under(tmp_path) == ["exports/3/x"]


ESCAPES = [
    "/etc/passwd",
    "../outside",
    "uploads/1/../../../outside",
    "uploads/1/..",
    "uploads\\1\\..\\..\\outside",
    "uploads/1/a\0b",
    "",
    "uploads//1",
    "./uploads/1",
    "uploads/1/",
    "uploads/1/.partial-abc",
]


@pytest.mark.parametrize("key", ESCAPES)
def test_keys_that_are_not_plain_relative_paths_are_refused(tmp_path, key):
    root = tmp_path / "files"
    (tmp_path / "outside").write_bytes(b"secret")
    with pytest.raises(ValueError, match="not a key"):
        local_files.put_bytes(root, key, b"x")
    with pytest.raises(ValueError, match="not a key"):
        local_files.get_bytes(root, key)
    with pytest.raises(ValueError, match="not a key"):
        local_files.upload(root, key, io.BytesIO(b"x"))
    with pytest.raises(ValueError, match="not a key"):
        local_files.delete(root, key)
    with pytest.raises(ValueError, match="not a key"):
        next(local_files.iter_lines(root, key))
    with pytest.raises(ValueError, match="not a key"):
        local_files.presigned_url(SECRET, key, 60)
    assert (tmp_path / "outside").read_bytes() == b"secret" and not root.exists()


@pytest.mark.parametrize("prefix", ["../", "uploads/../../", "a\\b/", "/etc/", "x\0/"])
def test_prefixes_that_could_escape_are_refused(tmp_path, prefix):
    root = tmp_path / "files"
    local_files.put_bytes(root, "uploads/1/a", b"x")
    (tmp_path / "outside").write_bytes(b"secret")
    with pytest.raises(ValueError, match="not a"):
        local_files.delete_prefix(root, prefix)
    assert (tmp_path / "outside").read_bytes() == b"secret"
    assert files_under(root) == ["uploads/1/a"]


# --- signed URLs ------------------------------------------------------------------------------------


def request_of(url: str) -> tuple[str, str | None, str | None, str | None]:
    """What the route hands to check_signed: the key from the path, the query's values."""
    parts = urlsplit(url)
    assert parts.scheme == "" and parts.netloc == "" and parts.path.startswith("/files/")
    query = {name: values[0] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
    return (
        unquote(parts.path.removeprefix("/files/")),
        query.get("expires"),
        query.get("signature"),
        query.get("download"),
    )


def test_a_signed_view_url_names_its_file_inline(tmp_path):
    key = "uploads/3/a cat?#%.png"
    local_files.put_bytes(tmp_path, key, b"png")
    url = local_files.presigned_url(SECRET, key, 60)
    assert "download=" not in url
    found = local_files.check_signed(tmp_path, SECRET, *request_of(url))
    assert found.path == tmp_path / "uploads" / "3" / "a cat?#%.png" and found.path.read_bytes() == b"png"
    assert (found.content_type, found.content_disposition) == ("image/png", "inline")


def test_a_signed_download_url_names_its_filename(tmp_path):
    local_files.put_bytes(tmp_path, "exports/1/2/json.json", b"[]")
    plain = local_files.presigned_url(SECRET, "exports/1/2/json.json", 60, "project-1-at-2024.json")
    found = local_files.check_signed(tmp_path, SECRET, *request_of(plain))
    assert found.content_type == "application/json"
    assert found.content_disposition == 'attachment; filename="project-1-at-2024.json"'
    fancy = local_files.presigned_url(SECRET, "exports/1/2/json.json", 60, 'données "1".json')
    found = local_files.check_signed(tmp_path, SECRET, *request_of(fancy))
    assert found.content_disposition == "attachment; filename*=utf-8''donn%C3%A9es%20%221%22.json"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("page.html", "text/html"),
        ("drawing.svg", "image/svg+xml"),
        ("feed.xml", "application/xml"),
        ("app.js", "text/javascript"),
    ],
)
def test_types_a_browser_would_run_are_only_downloaded(tmp_path, name, content_type):
    key = f"uploads/1/{name}"
    local_files.put_bytes(tmp_path, key, b"<script>alert(1)</script>")
    found = local_files.check_signed(
        tmp_path, SECRET, *request_of(local_files.presigned_url(SECRET, key, 60))
    )
    assert found.content_type == content_type
    assert found.content_disposition == f'attachment; filename="{name}"'


def test_an_unknown_type_is_octet_stream(tmp_path):
    local_files.put_bytes(tmp_path, "uploads/1/blob", b"?")
    found = local_files.check_signed(
        tmp_path, SECRET, *request_of(local_files.presigned_url(SECRET, "uploads/1/blob", 60))
    )
    assert found.content_type == "application/octet-stream"


def tampered(url: str, **changes) -> tuple:
    key, expires, signature, download = request_of(url)
    values = {"key": key, "expires": expires, "signature": signature, "download": download, **changes}
    return values["key"], values["expires"], values["signature"], values["download"]


def test_a_tampered_or_expired_url_is_refused(tmp_path):
    for key in ("uploads/1/a.png", "uploads/2/a.png", "exports/1/2/json.json"):
        local_files.put_bytes(tmp_path, key, b"x")
    view = local_files.presigned_url(SECRET, "uploads/1/a.png", 60)
    download = local_files.presigned_url(SECRET, "uploads/1/a.png", 60, "a.png")
    _, expires, signature, _ = request_of(view)
    refused = [
        tampered(view, key="uploads/2/a.png"),
        tampered(view, key="exports/1/2/json.json"),
        tampered(view, expires=str(int(expires) + 3600)),
        tampered(view, expires=str(int(expires) - 1)),
        tampered(view, download="a.png"),  # a view's signature does not sign a download
        tampered(download, download="b.html"),
        tampered(download, download=None),
        tampered(view, signature=signature.upper()),
        tampered(view, signature=signature[:-1]),
        tampered(view, signature=None),
        tampered(view, expires=None),
        tampered(view, expires="+" + expires),
        tampered(view, expires="9" * 5000),
        tampered(view, key="uploads/1/../2/a.png"),
    ]
    for request in refused:
        with pytest.raises(PermissionDenied):
            local_files.check_signed(tmp_path, SECRET, *request)
    with pytest.raises(PermissionDenied):  # another installation's secret
        local_files.check_signed(tmp_path, SECRET + "x", *request_of(view))
    late = local_files.presigned_url(SECRET, "uploads/1/a.png", 60, now=time.time() - 61)
    with pytest.raises(PermissionDenied, match="expired"):
        local_files.check_signed(tmp_path, SECRET, *request_of(late))
    assert local_files.check_signed(tmp_path, SECRET, *request_of(view)).path.read_bytes() == b"x"


def test_a_valid_url_for_a_missing_file_is_not_found(tmp_path):
    url = local_files.presigned_url(SECRET, "uploads/1/gone.png", 60)
    with pytest.raises(NotFound):
        local_files.check_signed(tmp_path, SECRET, *request_of(url))


def test_no_secret_no_signed_urls(tmp_path):
    with pytest.raises(RuntimeError):
        local_files.presigned_url(None, "uploads/1/a.png", 60)
    with pytest.raises(RuntimeError):
        local_files.presigned_url("", "uploads/1/a.png", 60)
    query = urlencode({"expires": int(time.time()) + 60, "signature": "0" * 64})
    with pytest.raises(RuntimeError):
        local_files.check_signed(tmp_path, None, *request_of(f"/files/uploads/1/a.png?{query}"))
