"""Files uploaded into a project, as Label Studio takes them (`data_import/uploader.py`, `models.py`).

An import's files are checked together before any is read: every extension must be one Label Studio
supports (`settings.SUPPORTED_EXTENSIONS`), and their sizes together must stay under the bound
(`TASKS_MAX_FILE_SIZE`), as must their number (`DATA_UPLOAD_MAX_NUMBER_FILES`). Then each file is read by
what it is:

- a task file (JSON, JSONL, CSV, TSV, TXT) holds tasks (functions/domain/task_import.py);
- a hypertext file (HTML, HTM, XML) is one task whose data is the file's text;
- anything else is media: it is kept as `upload/<project>/<8 hex>-<name>` and becomes one task whose data
  is its URL, `/data/upload/<project>/<8 hex>-<name>`.

The last two need a label config that reads one data key (Label Studio's `one_object_in_label_config`):
the task's data is `{"$undefined$": ...}`, renamed to that key on import.

Media is served back from our own origin only to members of its project, with the type its extension
names, never sniffed; types a browser would run scripts in are downloaded, never shown (`served_as`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import quote

TASK_FILE_EXTENSIONS = (".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".txt")
HYPERTEXT_EXTENSIONS = (".html", ".htm", ".xml")
# Media Label Studio accepts, with the type each is served as. A fixed table, not the platform's
# mimetypes database: what a file is served as must not depend on the machine serving it.
MEDIA_TYPES = {
    ".bmp": "image/bmp",
    ".gif": "image/gif",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".pdf": "application/pdf",
}
SUPPORTED_EXTENSIONS = (*TASK_FILE_EXTENSIONS, *HYPERTEXT_EXTENSIONS, *MEDIA_TYPES)
# Read as lists of tasks (Label Studio's `format_could_be_tasks_list`).
TABULAR_EXTENSIONS = (".csv", ".tsv", ".txt")

# Where Label Studio keeps uploads (`settings.UPLOAD_DIR`), and the URL it serves them under
# (`MEDIA_URL` + that directory).
UPLOAD_DIR = "upload"
URL_PREFIX = f"/data/{UPLOAD_DIR}/"
# Django's FileField keeps at most 100 characters of `upload/<project>/<hex>-<name>`.
MAX_FILE_PATH = 100
_RANDOM_PART = 8

ONE_DATA_KEY_ONLY = (
    "Your label config has more than one data key and direct file upload supports only one data key. "
    "To import data with multiple data keys, use a JSON or CSV file."
)
# Served with this policy, a file that is opened anyway (a browser that ignores the download) runs no
# script and loads nothing; as an <img> it renders, since images ignore both.
SANDBOX_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"


def extension(filename: str) -> str:
    return os.path.splitext(filename)[1].lower()


def kind(filename: str) -> str:
    """ "tasks", "hypertext" or "media"; ValueError for an extension Label Studio does not take."""
    found = extension(filename)
    if found in TASK_FILE_EXTENSIONS:
        return "tasks"
    if found in HYPERTEXT_EXTENSIONS:
        return "hypertext"
    if found in MEDIA_TYPES:
        return "media"
    raise ValueError(f"{found or 'a name without an'} extension is not supported")


def check_files(files: list[tuple[str, int]], max_bytes: int, max_files: int) -> list[str]:
    """What is wrong with an import's files, given as (name, size): Label Studio's checks, all of them
    before any file is read. An empty list when nothing is."""
    if len(files) > max_files:
        return [f"At most {max_files} files can be uploaded at once, got {len(files)}."]
    problems = []
    for name, size in files:
        try:
            kind(name)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if size == 0 and extension(name) in MEDIA_TYPES:
            problems.append(f"{name}: The submitted file is empty.")
    total = sum(size for _, size in files)
    if total >= max_bytes:
        problems.append(
            f"Maximum total size of all files is {max_bytes} bytes, current size is {total} bytes"
        )
    return problems


def valid_name(filename: str) -> str:
    """The name Django keeps an upload under (`get_valid_filename` of its base name): spaces become
    underscores; anything but letters, digits, `-`, `_` and `.` goes."""
    base = re.split(r"[\\/]", filename)[-1].strip().replace(" ", "_")
    name = re.sub(r"(?u)[^-\w.]", "", base)
    if name in ("", ".", ".."):
        return f"upload{extension(filename)}" if extension(filename) else "upload"
    return name


def stored_name(project_id: int, filename: str, random_hex: str) -> str:
    """`<hex>-<name>`: Label Studio's `upload_name_generator`, the name shortened (keeping its extension)
    so the whole `upload/<project>/…` path fits Django's 100 characters."""
    name = valid_name(filename)
    prefix = f"{UPLOAD_DIR}/{project_id}/{random_hex[:_RANDOM_PART]}-"
    room = MAX_FILE_PATH - len(prefix)
    if len(name) > room:
        stem, ext = os.path.splitext(name)
        name = stem[: max(1, room - len(ext))] + ext
    return f"{random_hex[:_RANDOM_PART]}-{name}"


def file_path(project_id: int, name: str) -> str:
    """Label Studio's `FileUpload.file`: `upload/<project>/<name>`."""
    return f"{UPLOAD_DIR}/{project_id}/{name}"


def url(project_id: int, name: str) -> str:
    """The URL a task's data gets: `/data/upload/<project>/<name>`, percent-encoded as Django's
    `FileSystemStorage.url` does."""
    return URL_PREFIX + quote(f"{project_id}/{name}", safe="/~!*()'")


def parse_path(path: str) -> tuple[int, str] | None:
    """(project id, name) of what follows `/data/upload/`; None unless it is `<project id>/<name>`
    with a name that is one path segment (no `..`, no slashes, nothing hidden)."""
    project, sep, name = path.partition("/")
    if not sep or not project.isascii() or not project.isdigit() or len(project) > 18:
        return None
    if not name or "/" in name or "\\" in name or "\0" in name or name.startswith("."):
        return None
    return int(project), name


@dataclass(frozen=True)
class Serving:
    """How to answer for a stored file: its type and, for one a browser would run, a download and a
    policy that runs nothing."""

    content_type: str
    disposition: str | None
    policy: str | None


def served_as(name: str) -> Serving:
    content_type = MEDIA_TYPES.get(extension(name))
    if content_type is None:  # nothing else is stored as media, but never serve a stranger inline
        return Serving("application/octet-stream", _attachment(name), SANDBOX_POLICY)
    if content_type == "image/svg+xml":  # SVG is a document with scripts when opened on its own
        return Serving(content_type, _attachment(name), SANDBOX_POLICY)
    return Serving(content_type, None, None)


def _attachment(name: str) -> str:
    quoted = quote(name, safe="")
    if quoted == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename*=utf-8''{quoted}"
