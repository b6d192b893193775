"""The label stream's history: one item per (project, user), its entries as one JSON list.

A change reads the item and writes it back on condition that its version is still the one read, trying
again if another request of the same user got there first: the list is small (at most 100 entries) and a
user's own requests rarely race, so nothing is lost and nothing waits.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from pynamodb.exceptions import PutError

from functions.domain.errors import Conflict
from functions.store.errors import is_condition_failure
from functions.store.models import StreamHistoryModel

Entries = list[dict]
_ATTEMPTS = 5


def _read(project_id: int, user_id: int) -> tuple[Entries, int | None]:
    try:
        item = StreamHistoryModel.get(project_id, user_id, consistent_read=True)
    except StreamHistoryModel.DoesNotExist:
        return [], None
    return json.loads(item.entries or "[]"), int(item.version or 0)


def entries(project_id: int, user_id: int) -> Entries:
    return _read(project_id, user_id)[0]


def change(project_id: int, user_id: int, edit: Callable[[Entries], Entries]) -> Entries:
    """Apply `edit` to the user's history and store what it returns (nothing is written when it returns
    the entries unchanged); the history as stored after."""
    for _ in range(_ATTEMPTS):
        current, version = _read(project_id, user_id)
        edited = edit(list(current))
        if edited == current:
            return current
        item = StreamHistoryModel(
            project_id,
            user_id,
            entries=json.dumps(edited, separators=(",", ":")),
            version=(version or 0) + 1,
        )
        condition = (
            StreamHistoryModel.user_id.does_not_exist()
            if version is None
            else StreamHistoryModel.version == version
        )
        try:
            item.save(condition=condition)
        except PutError as exc:
            if is_condition_failure(exc):
                continue
            raise
        return edited
    raise Conflict("The label stream history kept changing under this request; try again.")


def delete_for_project(project_id: int) -> int:
    """Delete every user's history in the project; returns how many."""
    found = [int(item.user_id) for item in StreamHistoryModel.query(project_id)]
    with StreamHistoryModel.batch_write() as batch:
        for user_id in found:
            batch.delete(StreamHistoryModel(project_id, user_id))
    return len(found)
