"""Exports: Label Studio's JSON export and the formats converted from it, streamed.

Tasks are read a page at a time and written to a spooled temporary file (memory up to a bound, then
disk), which the API then streams; memory stays flat as the project grows. Formats that need totals up
front read the tasks twice (see functions/domain/export_formats).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from functions.domain.agreement import majority_vote
from functions.domain.errors import ValidationFailed
from functions.domain.export_formats import ExportFile, available_formats, write_export
from functions.domain.ls_json import export_task_json
from functions.domain.records import User
from functions.services import access
from functions.services.projects import config_of
from functions.store import annotations as annotation_store
from functions.store import tasks as task_store

SPOOL_BYTES = 2 * 1024 * 1024  # then disk: memory stays flat however large the export


def export_formats(user: User, project_id: int) -> list[dict]:
    """Label Studio's catalogue, where only what `export` really writes for this project is enabled."""
    return available_formats(config_of(access.project_for(user, project_id)))


def export(
    user: User,
    project_id: int,
    export_type: str,
    *,
    download_all_tasks: bool,
    ids: list[int] | None,
    majority: bool = False,
) -> tuple[ExportFile, IO[bytes]]:
    """The export as (what it is, a file positioned at its start). The caller closes the file."""
    project = access.project_for(user, project_id)
    tasks = export_tasks(project_id, ids=ids, all_tasks=download_all_tasks or bool(ids), majority=majority)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the caller streams, then closes it
    try:
        written = write_export(export_type, tasks, config_of(project), out)
    except ValueError as exc:
        out.close()
        raise ValidationFailed.field("exportType", str(exc)) from None
    out.seek(0)
    return written, out


def export_tasks(
    project_id: int, *, ids: list[int] | None = None, all_tasks: bool = True, majority: bool = False
) -> Callable[[], Iterator[dict]]:
    """A factory of fresh passes over the project's tasks in the JSON export's shape."""

    def one_pass() -> Iterator[dict]:
        chunks: Iterable[list[int]] = (
            [ids[i : i + 100] for i in range(0, len(ids), 100)] if ids else task_store.iter_ids(project_id)
        )
        for chunk in chunks:
            tasks = [t for t in task_store.batch_get(chunk) if t.project_id == project_id]
            if not all_tasks:
                # Label Studio's default: tasks with at least one annotation, skipped ones included.
                tasks = [t for t in tasks if t.annotation_ids]
            by_task: dict[int, list] = {}
            for a in annotation_store.batch_get([i for t in tasks for i in t.annotation_ids]):
                by_task.setdefault(a.task_id, []).append(a)
            for task in tasks:
                exported = export_task_json(task, by_task.get(task.id, []))
                yield _with_majority_vote(exported) if majority else exported

    return one_pass


def _with_majority_vote(task: dict) -> dict:
    """Replace the task's annotations by one consensus annotation: per control, what most annotators
    chose (functions/domain/agreement.py). Tasks nobody answered keep no annotation."""
    answered = [a for a in task["annotations"] if not a["was_cancelled"]]
    if not answered:
        return {**task, "annotations": []}
    latest = max(answered, key=lambda a: a["updated_at"] or "")
    consensus = {
        "id": None,
        "completed_by": None,
        "result": majority_vote([a["result"] for a in answered]),
        "was_cancelled": False,
        "ground_truth": False,
        "created_at": latest["created_at"],
        "updated_at": latest["updated_at"],
        "lead_time": None,
        "majority_of": len(answered),
        "task": task["id"],
        "project": latest["project"],
    }
    return {**task, "annotations": [consensus]}
