"""Files uploaded into a project: reading an import's files, keeping its media, serving media back.

An import's files are read (`read_files`) before anyone is asked whether they may import: reading
writes nothing. Media is only named then; the import stores it (`store`) once the caller may import
and every task checked out, and takes it back (`discard`) if writing the tasks fails.

`/data/upload/<project>/<name>` (`open_media`) serves a project's media to its members and admins,
everyone else getting the 404 of a missing file: on the sqlite engine the file itself, on S3 a
redirect to a short-lived presigned URL (a Lambda cannot answer with a video).
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from functions.domain import media_files
from functions.domain.errors import NotFound, ValidationFailed
from functions.domain.json_limits import check_storable
from functions.domain.records import User
from functions.domain.task_import import DATA_UNDEFINED_NAME, read_import_file
from functions.services import access
from functions.settings import get_settings
from functions.store import blobs
from functions.store import file_uploads as upload_store
from functions.store.file_uploads import FileUpload

MEDIA_URL_SECONDS = 3600
_NO_FILE = "No FileUpload matches the given query."


@dataclass
class Upload:
    """One file of a multipart request, as received: its name, its size and its bytes (read once)."""

    filename: str
    size: int
    body: BinaryIO


@dataclass
class Media:
    """A media file of an import, named but not yet stored."""

    upload: Upload
    name: str  # <hex>-<name>, under the project's uploads

    def key(self, project_id: int) -> str:
        return blobs.uploads_prefix(project_id) + self.name


@dataclass
class FilesRead:
    """What an import's files hold: raw task items (media as `{"$undefined$": url}`), the media to
    store, and what Label Studio's import answer reports about the files."""

    items: list = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    # Files read as single tasks (media, hypertext): they need a config with one data key.
    single_assets: list[str] = field(default_factory=list)
    found_formats: dict[str, int] = field(default_factory=dict)
    data_columns: list[str] = field(default_factory=list)
    could_be_tasks_list: bool = False


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed({"file": [message]})


def read_files(project_id: int, files: list[Upload]) -> FilesRead:
    """Check an import's files as Label Studio does (extensions, sizes, count), then read each: task
    files into their tasks, hypertext into one task of its text, media into one task of its future URL.
    ValidationFailed naming `file` for the first file that is wrong."""
    settings = get_settings()
    problems = media_files.check_files(
        [(f.filename, f.size) for f in files], settings.max_upload_bytes, settings.max_upload_files
    )
    if problems:
        raise ValidationFailed({"file": problems})
    read = FilesRead()
    common: set[str] | None = None
    for upload in files:
        kind = media_files.kind(upload.filename)
        if kind == "tasks":
            items = read_import_file(upload.filename, upload.body.read())
            try:
                check_storable(items, "file")  # as a JSON body is checked on its way in
            except ValidationFailed as exc:
                raise _file_error(f"{upload.filename}: {exc.errors['file'][0]}") from None
        elif kind == "hypertext":
            try:
                text = upload.body.read().decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise _file_error(
                    f"{upload.filename}: not UTF-8 text (invalid byte at offset {exc.start})"
                ) from None
            items = [{"data": {DATA_UNDEFINED_NAME: text}}]
            read.single_assets.append(upload.filename)
        else:
            name = media_files.stored_name(project_id, upload.filename, secrets.token_hex(4))
            read.media.append(Media(upload, name))
            items = [{"data": {DATA_UNDEFINED_NAME: media_files.url(project_id, name)}}]
            read.single_assets.append(upload.filename)
        read.items.extend(items)
        ext = media_files.extension(upload.filename)
        read.found_formats[ext] = read.found_formats.get(ext, 0) + 1
        read.could_be_tasks_list |= ext in media_files.TABULAR_EXTENSIONS
        common = _first_keys(items) if common is None else common & _first_keys(items)
    read.data_columns = sorted(common or ())
    return read


def _first_keys(items: list) -> set[str]:
    """The data keys of a file's first task: Label Studio's data columns are those every file's first
    task has (a task without a truthy "data" is its own data)."""
    first = items[0] if items else None
    if not isinstance(first, dict):
        return set()
    data = first.get("data") or first
    return set(data) if isinstance(data, dict) else set()


def check_config(read: FilesRead, data_keys: tuple[str, ...]) -> None:
    """Files read as one task each need a label config that reads at most one data key."""
    if read.single_assets and len(data_keys) > 1:
        raise _file_error(
            f"Failed to parse input file {read.single_assets[0]}: {media_files.ONE_DATA_KEY_ONLY}"
        )


def store(project_id: int, user: User, media: list[Media]) -> list[FileUpload]:
    """Put the media into the files bucket and record each upload. On a failure what was put is taken
    back before the error goes on."""
    if not media:
        return []
    first = upload_store.reserve_ids(len(media))
    uploads: list[FileUpload] = []
    try:
        for offset, item in enumerate(media):
            served = media_files.served_as(item.name)
            blobs.upload(item.key(project_id), item.upload.body, served.content_type)
            uploads.append(
                FileUpload(
                    id=first + offset,
                    project_id=project_id,
                    user_id=user.id,
                    file=media_files.file_path(project_id, item.name),
                    size=item.upload.size,
                )
            )
        upload_store.put_many(uploads)
    except Exception:
        discard(uploads)
        raise
    return uploads


def discard(uploads: list[FileUpload]) -> None:
    """Remove uploads and their files (an import that failed after storing them)."""
    for upload in uploads:
        blobs.delete(_key(upload))
    upload_store.delete_many(u.id for u in uploads)


def _key(upload: FileUpload) -> str:
    name = upload.file.rpartition("/")[2]
    return blobs.uploads_prefix(upload.project_id) + name


def delete_for_project(project_id: int) -> int:
    """Remove every upload of a project, records and files (the project is being deleted)."""
    records = upload_store.list_for_project(project_id)
    upload_store.delete_many(u.id for u in records)
    return blobs.delete_prefix(blobs.uploads_prefix(project_id))


# --- Label Studio's file-upload API -------------------------------------------------------------------


def upload_json(upload: FileUpload) -> dict:
    return {"id": upload.id, "file": upload.file, "size": upload.size}


def list_uploads(user: User, project_id: int, ids: list[int] | None, everything: bool) -> list[FileUpload]:
    """The caller's own uploads into the project, as Label Studio lists them: all of them with `all`,
    else those of `ids` (none without)."""
    access.project_for(user, project_id)
    found = upload_store.list_for_project(project_id) if everything else upload_store.batch_get(ids or ())
    return [u for u in found if u.project_id == project_id and u.user_id == user.id]


def get_upload(user: User, upload_id: int) -> FileUpload:
    found = upload_store.batch_get([upload_id])
    if not found:
        raise NotFound(_NO_FILE)
    upload = found[0]
    try:
        access.project_for(user, upload.project_id)
    except NotFound:
        raise NotFound(_NO_FILE) from None
    return upload


def count_by_format(uploads: list[FileUpload]) -> dict[str, int]:
    return dict(Counter(media_files.extension(u.file) for u in uploads))


# --- serving --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaAnswer:
    """A stored file to answer with: the file itself (`path`) or a URL to redirect to (`url`)."""

    serving: media_files.Serving
    path: Path | None = None
    url: str | None = None


def open_media(user: User, path: str) -> MediaAnswer:
    """The file `/data/upload/<path>` names, for a caller who may see its project; NotFound otherwise
    (a missing file, a path that names none, a project the caller is not in)."""
    parsed = media_files.parse_path(path)
    if parsed is None:
        raise NotFound("No such file.")
    project_id, name = parsed
    access.project_for(user, project_id)
    serving = media_files.served_as(name)
    found = blobs.for_browser(
        blobs.uploads_prefix(project_id) + name, MEDIA_URL_SECONDS, serving.content_type, serving.disposition
    )
    if isinstance(found, str):
        return MediaAnswer(serving, url=found)
    return MediaAnswer(serving, path=found)
