"""File upload records (Label Studio's FileUpload): who uploaded which file into which project. The bytes
are in the files bucket, under `blobs.uploads_prefix(project)`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from functions.domain.records import utcnow
from functions.store import ids
from functions.store.models import ID_LIMIT, FileUploadModel


@dataclass
class FileUpload:
    id: int
    project_id: int
    user_id: int
    file: str  # upload/<project>/<name>
    size: int
    created_at: datetime = field(default_factory=utcnow)


def _to_upload(item: FileUploadModel) -> FileUpload:
    return FileUpload(
        id=int(item.id),
        project_id=int(item.project_id),
        user_id=int(item.user_id),
        file=item.file,
        size=int(item.size),
        created_at=item.created_at,
    )


def reserve_ids(count: int) -> int:
    """The first of `count` new ids (one counter write)."""
    return ids.reserve("file_upload", count)


def put_many(uploads: list[FileUpload]) -> None:
    with FileUploadModel.batch_write() as batch:
        for u in uploads:
            batch.save(
                FileUploadModel(
                    u.id,
                    project_id=u.project_id,
                    user_id=u.user_id,
                    file=u.file,
                    size=u.size,
                    created_at=u.created_at,
                )
            )


def batch_get(upload_ids: Iterable[int]) -> list[FileUpload]:
    """The uploads among `upload_ids` that exist, in id order."""
    wanted = sorted({i for i in upload_ids if 0 < i <= ID_LIMIT})
    if not wanted:
        return []
    return sorted((_to_upload(i) for i in FileUploadModel.batch_get(wanted)), key=lambda u: u.id)


def list_for_project(project_id: int) -> list[FileUpload]:
    return [_to_upload(i) for i in FileUploadModel.project_index.query(project_id)]


def delete_many(upload_ids: Iterable[int]) -> None:
    with FileUploadModel.batch_write() as batch:
        for upload_id in upload_ids:
            batch.delete(FileUploadModel(upload_id))
