"""Data Manager views: one item per view, listed per project through the project index."""

from __future__ import annotations

import json
from typing import Any

from pynamodb.expressions.update import Action

from functions.domain.dm_views import View
from functions.domain.errors import NotFound
from functions.domain.records import utcnow
from functions.store import field_updates, ids
from functions.store.errors import conflict_on_condition
from functions.store.models import ViewModel

NOT_FOUND = "No View matches the given query."


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _to_view(item: ViewModel) -> View:
    return View(
        id=int(item.id),
        project_id=int(item.project_id),
        user_id=int(item.user_id) if item.user_id is not None else None,
        data=json.loads(item.data),
        order=int(item.order or 0),
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version or 0),
    )


def new_id() -> int:
    return ids.reserve("view")


def create(view: View) -> View:
    item = ViewModel(
        view.id,
        project_id=view.project_id,
        user_id=view.user_id,
        data=_dumps(view.data),
        order=view.order,
        created_at=view.created_at,
        updated_at=view.updated_at,
        version=0,
    )
    with conflict_on_condition("view id already taken"):
        item.save(condition=ViewModel.id.does_not_exist())
    return view


def get(view_id: int) -> View:
    try:
        return _to_view(ViewModel.get(view_id, consistent_read=True))
    except ViewModel.DoesNotExist:
        raise NotFound(NOT_FOUND) from None


def list_for_project(project_id: int) -> list[View]:
    """The project's views in tab order (then by id, as Label Studio orders them)."""
    views = [_to_view(item) for item in ViewModel.project_index.query(project_id)]
    return sorted(views, key=lambda v: (v.order, v.id))


def update(view_id: int, *, data: dict | None = None, order: int | None = None) -> View:
    """Replace the view's data and/or set its order, in one write; the others fields stay."""
    actions: list[Action] = [ViewModel.updated_at.set(utcnow())]
    if data is not None:
        actions.append(ViewModel.data.set(_dumps(data)))
    if order is not None:
        actions.append(ViewModel.order.set(order))
    item = field_updates.update(ViewModel, view_id, actions, returning="new", missing=NOT_FOUND)
    return _to_view(item)


def delete(view_id: int) -> None:
    ViewModel(view_id).delete()


def delete_for_project(project_id: int) -> int:
    """Delete every view of the project; returns how many."""
    found = [int(item.id) for item in ViewModel.project_index.query(project_id)]
    with ViewModel.batch_write() as batch:
        for view_id in found:
            batch.delete(ViewModel(view_id))
    return len(found)
