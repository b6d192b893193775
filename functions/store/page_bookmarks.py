"""Page bookmarks: where an offset into a project's task ids starts, so page 1,000 costs what page 1 does.

DynamoDB has no OFFSET: reaching offset N means counting N keys of the project index first (one COUNT
query per ~1 MB of keys, and read capacity for every key counted), so a client walking pages 1, 2, 3…
(label-studio-sdk does) pays O(N²) for the whole walk. Each page served here notes the id its next page
starts after; the next request starts from the nearest note at or before its offset and counts only the
rest.

A note is only true for the set of task ids it was taken on. `generation` names that set: the caller
passes the project's (task_number, tasks_removed) counters, and every change of the set changes them
(tasks are counted in after they are written; every removal bumps tasks_removed, so a removal followed
by an addition still differs). Notes of another generation are dropped.

The project index is eventually consistent in DynamoDB: right after a change, a query may still see the
old set while the project item already shows the new counters. So on that engine a generation's notes
are only taken once it has been current for `settle_seconds`; before that, pages are counted as before.

The notes live in this process (a Lambda container, the local server): a cold one counts, then notes.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

MAX_PROJECTS = 64
MAX_NOTES_PER_PROJECT = 20_000  # one per page end: 2,000,000 tasks at 100 a page


@dataclass
class _Notes:
    generation: tuple[int, ...]
    since: float
    offsets: list[int] = field(default_factory=list)  # sorted
    after_id: dict[int, int] = field(default_factory=dict)  # offset -> the id just before it


_by_project: OrderedDict[int, _Notes] = OrderedDict()
_lock = threading.Lock()


def _notes(project_id: int, generation: tuple[int, ...]) -> _Notes:
    """The project's notes for this generation (a fresh, empty set when the generation changed)."""
    notes = _by_project.get(project_id)
    if notes is None or notes.generation != generation:
        notes = _by_project[project_id] = _Notes(generation, time.monotonic())
    _by_project.move_to_end(project_id)
    while len(_by_project) > MAX_PROJECTS:
        _by_project.popitem(last=False)
    return notes


def nearest(project_id: int, generation: tuple[int, ...], offset: int) -> tuple[int, int | None]:
    """(start offset, id to start after) of the nearest note at or before `offset`; (0, None) when none."""
    with _lock:
        notes = _notes(project_id, generation)
        at = bisect.bisect_right(notes.offsets, offset) - 1
        if at < 0:
            return 0, None
        start = notes.offsets[at]
        return start, notes.after_id[start]


def note(
    project_id: int, generation: tuple[int, ...], offset: int, after_id: int, *, settle_seconds: float
) -> None:
    """Remember that the task ids from `offset` on start after `after_id`, in this generation."""
    if offset <= 0:
        return
    with _lock:
        notes = _notes(project_id, generation)
        if time.monotonic() - notes.since < settle_seconds or offset in notes.after_id:
            return
        if len(notes.offsets) >= MAX_NOTES_PER_PROJECT:
            return
        bisect.insort(notes.offsets, offset)
        notes.after_id[offset] = after_id


def forget_all() -> None:
    """Drop every note (a test's fresh store)."""
    with _lock:
        _by_project.clear()
