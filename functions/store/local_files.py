"""The files bucket as a directory, for one-machine installs (the sqlite store engine): the object under
an S3-style key `a/b/c.json` is the file `<root>/a/b/c.json`.

Keys come from our own code and from task data a manager writes, so a key that could name anything
outside the root (absolute, `..`, backslashes, NUL) is refused, and so are empty and `.` segments (the
file system would fold `a//b` and `a/./b` into `a/b`, two keys for one file).

A write goes to a temporary file beside its target and is renamed over it, so a reader sees the old file
or the new one, never half of one, and a process killed mid-write leaves at most a temporary file, which
no key names (a segment starting with the temporary prefix is refused as a key).

Browsers reach a file through a URL signed with the installation's secret, the local stand-in for an S3
presigned URL: `/files/<quoted key>?expires=<unix time>&signature=<hex>[&download=<filename>]`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import mimetypes
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlencode

from functions.domain.errors import NotFound, PermissionDenied

CHUNK_BYTES = 1024 * 1024
_PARTIAL = ".partial-"  # the temporary files of writes in progress
# Served from our own origin these would run as our pages (scripts, event handlers), so they are only
# ever downloaded.
_ACTIVE_TYPES = ("html", "xml", "javascript", "ecmascript")


def _segments(key: str) -> list[str]:
    parts = key.split("/")
    if (
        "\\" in key
        or "\0" in key
        or any(part in ("", ".", "..") or part.startswith(_PARTIAL) for part in parts)
    ):
        raise ValueError(f"not a key of the files directory: {key!r}")
    return parts


def path_for(root: Path, key: str) -> Path:
    """The file that holds `key`; ValueError for a key that is not a plain relative path."""
    return root.joinpath(*_segments(key))


def _temporary_file(directory: Path) -> tuple[int, str]:
    attempts = 3
    while True:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            return tempfile.mkstemp(prefix=_PARTIAL, dir=directory)
        except FileNotFoundError:  # a delete pruned the emptied directory under us: make it again
            attempts -= 1
            if not attempts:
                raise


def _write(root: Path, key: str, write: Callable[[BinaryIO], object]) -> None:
    target = path_for(root, key)
    fd, temporary = _temporary_file(target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def put_bytes(root: Path, key: str, body: bytes) -> None:
    _write(root, key, lambda out: out.write(body))


def upload(root: Path, key: str, body: BinaryIO) -> None:
    """Copy a file object under `key` a chunk at a time (never all in memory)."""
    _write(root, key, lambda out: shutil.copyfileobj(body, out, CHUNK_BYTES))


def get_bytes(root: Path, key: str) -> bytes:
    """The file's bytes; FileNotFoundError if there is none (a missing object is a failure, as in S3)."""
    return path_for(root, key).read_bytes()


def iter_lines(root: Path, key: str) -> Iterator[bytes]:
    """The file's lines without their line ends, split as botocore's `StreamingBody.iter_lines` splits."""
    with path_for(root, key).open("rb") as body:
        pending = b""
        while chunk := body.read(CHUNK_BYTES):
            lines = (pending + chunk).splitlines(True)
            for line in lines[:-1]:
                yield line.splitlines()[0]
            pending = lines[-1]
        if pending:
            yield pending.splitlines()[0]


def _prune(root: Path, directory: Path) -> None:
    """Remove `directory` and its parents up to `root` while they are empty (S3 has no directories)."""
    while directory != root and directory.is_relative_to(root):
        try:
            directory.rmdir()
        except OSError:  # not empty (or already gone)
            return
        directory = directory.parent


def delete(root: Path, key: str) -> None:
    """Delete the file under `key`; nothing to delete is no error (as S3's DeleteObject)."""
    path = path_for(root, key)
    try:
        path.unlink()
    except FileNotFoundError:
        return
    _prune(root, path.parent)


def delete_prefix(root: Path, prefix: str) -> int:
    """Delete every file whose key starts with `prefix` (a string prefix, as in S3, not only a directory).
    Returns how many; temporary files of interrupted writes under it go too, uncounted."""
    directory, _, _ = prefix.rpartition("/")
    if "\0" in prefix or "\\" in prefix:
        raise ValueError(f"not a prefix of the files directory: {prefix!r}")
    base = path_for(root, directory) if directory else root
    if not base.is_dir():
        return 0
    deleted = 0
    for folder, _, names in os.walk(base, topdown=False):
        for name in names:
            path = Path(folder, name)
            if path.relative_to(root).as_posix().startswith(prefix):
                path.unlink(missing_ok=True)
                deleted += not name.startswith(_PARTIAL)
        _prune(root, Path(folder))
    return deleted


# --- signed URLs ------------------------------------------------------------------------------------


def _signature(secret: str | None, key: str, expires: int, filename: str | None) -> str:
    if not secret:
        raise RuntimeError("signing file URLs needs the installation's secret (LABELSTACK_JWT_SECRET)")
    # A key of its own, so these signatures are never valid as anything else signed with the secret.
    signing_key = hmac.new(secret.encode(), b"labelstack files URL", hashlib.sha256).digest()
    message = json.dumps([key, expires, filename]).encode()
    return hmac.new(signing_key, message, hashlib.sha256).hexdigest()


def presigned_url(
    secret: str | None, key: str, seconds: int, filename: str | None = None, now: float | None = None
) -> str:
    """A relative URL that reads `key` until `seconds` from now; with `filename`, as a download of it."""
    _segments(key)
    expires = int(now if now is not None else time.time()) + seconds
    query = {"expires": expires, "signature": _signature(secret, key, expires, filename)}
    if filename is not None:
        query["download"] = filename
    return f"/files/{quote(key, safe='/')}?{urlencode(query)}"


@dataclass(frozen=True)
class SignedFile:
    path: Path
    content_type: str
    content_disposition: str


def _disposition(kind: str, filename: str) -> str:
    quoted = quote(filename)
    if quoted == filename:
        return f'{kind}; filename="{filename}"'
    return f"{kind}; filename*=utf-8''{quoted}"


def check_signed(
    root: Path,
    secret: str | None,
    key: str,
    expires: str | None,
    signature: str | None,
    download: str | None,
    now: float | None = None,
) -> SignedFile:
    """The file a signed URL's request names (its path's key and its query's values). PermissionDenied
    for a signature that does not check out or has expired, NotFound for a key with no file."""
    if not (expires and signature and expires.isascii() and expires.isdigit() and len(expires) < 20):
        raise PermissionDenied("This file link is not signed.")
    try:
        path = path_for(root, key)
    except ValueError:
        raise PermissionDenied("This file link is not valid.") from None
    expected = _signature(secret, key, int(expires), download)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise PermissionDenied("This file link is not valid.")
    if int(expires) < (now if now is not None else time.time()):
        raise PermissionDenied("This file link has expired.")
    if not path.is_file():
        raise NotFound("No such file.")
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if download is not None:
        disposition = _disposition("attachment", download)
    elif any(kind in content_type for kind in _ACTIVE_TYPES):
        disposition = _disposition("attachment", path.name)
    else:
        disposition = "inline"
    return SignedFile(path, content_type, disposition)
