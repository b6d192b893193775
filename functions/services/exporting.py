"""The plain JSON export, streamed: a page of tasks at a time, so memory stays flat as projects grow."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from functions.domain.errors import ValidationFailed
from functions.domain.ls_json import export_task_json
from functions.domain.records import User
from functions.services import access
from functions.store import annotations as annotation_store
from functions.store import tasks as task_store

SUPPORTED = ("JSON",)


def export_json(user: User, project_id: int, export_type: str, *, download_all_tasks: bool,
                ids: list[int] | None) -> Iterator[bytes]:
    if export_type.upper() not in SUPPORTED:
        raise ValidationFailed.field("exportType", f"Unsupported export type {export_type!r}; "
                                                   f"supported: {', '.join(SUPPORTED)}.")
    access.project_for(user, project_id)
    chunks: Iterable[list[int]] = (
        [ids[i:i + 100] for i in range(0, len(ids), 100)] if ids else task_store.iter_ids(project_id)
    )
    return _stream(project_id, chunks, download_all_tasks or bool(ids))


def _stream(project_id: int, chunks: Iterable[list[int]], all_tasks: bool) -> Iterator[bytes]:
    yield b"["
    first = True
    for chunk in chunks:
        tasks = [t for t in task_store.batch_get(chunk) if t.project_id == project_id]
        if not all_tasks:
            # Label Studio's default: tasks with at least one annotation, skipped ones included.
            tasks = [t for t in tasks if t.annotation_ids]
        annotations = annotation_store.batch_get([i for t in tasks for i in t.annotation_ids])
        by_task: dict[int, list] = {}
        for a in annotations:
            by_task.setdefault(a.task_id, []).append(a)
        for task in tasks:
            yield (b"" if first else b",") + json.dumps(
                export_task_json(task, by_task.get(task.id, [])), ensure_ascii=False).encode()
            first = False
    yield b"]"
