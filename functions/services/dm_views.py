"""Data Manager views (`/api/dm/views`): a project's saved tabs, and the task query a view stands for.

Views belong to a project and are shared by its members, as in Label Studio (which lists every view of
the project to everyone who may see it). Any member may add a view and change one; deleting a view is
for its author and for managers, and resetting (deleting every view of the project) for managers.
"""

from __future__ import annotations

from typing import Any

from functions.domain import fields as field_types
from functions.domain.dm_views import View, check_data, query_of
from functions.domain.errors import NotFound, PermissionDenied, ValidationFailed
from functions.domain.records import Project, User, utcnow
from functions.domain.task_query import TaskQuery, parse_task_query
from functions.services import access
from functions.store import dm_views as view_store

ORDER_MAX = 2**31 - 1


def _order(value: Any) -> int:
    return field_types.integer(value, "order", minimum=-ORDER_MAX, maximum=ORDER_MAX)


def list_views(user: User, project_id: int) -> list[View]:
    project = access.project_for(user, project_id)
    return view_store.list_for_project(project.id)


def view_for(user: User, view_id: int) -> tuple[View, Project]:
    """The view, if `user` may see its project (anyone else gets the same 404 as for no view)."""
    view = view_store.get(view_id)
    try:
        project = access.project_for(user, view.project_id)
    except NotFound:
        raise NotFound(view_store.NOT_FOUND) from None
    return view, project


def in_project(user: User, project: Project, view_id: int) -> View:
    """The view `view_id` of `project`; a view of any other project is no view here."""
    view, _ = view_for(user, view_id)
    if view.project_id != project.id:
        raise NotFound(view_store.NOT_FOUND)
    return view


def create_view(user: User, fields: dict) -> View:
    project_id = field_types.integer(fields.get("project"), "project", maximum=field_types.ID_MAX)
    project = access.project_for(user, project_id)
    data = check_data(fields.get("data"))
    if "order" in fields and fields["order"] is not None:
        order = _order(fields["order"])
    else:
        # A new tab goes to the right of the others (Label Studio: the highest order + 1).
        order = max((v.order for v in view_store.list_for_project(project.id)), default=-1) + 1
    now = utcnow()
    view = View(
        id=view_store.new_id(),
        project_id=project.id,
        user_id=user.id,
        data=data,
        order=order,
        created_at=now,
        updated_at=now,
    )
    return view_store.create(view)


def update_view(user: User, view_id: int, fields: dict, *, replace: bool = False) -> View:
    """Change the view: `data` replaces its data whole (as the Data Manager saves a tab), `order` moves
    it. `replace` (PUT) resets data that is not sent to empty. The project stays the view's."""
    view, project = view_for(user, view_id)
    if "project" in fields and fields["project"] is not None:
        sent = field_types.integer(fields["project"], "project", maximum=field_types.ID_MAX)
        if sent != project.id:
            raise ValidationFailed.field("project", "A view cannot move to another project.")
    data = check_data(fields.get("data")) if "data" in fields or replace else None
    order = _order(fields["order"]) if fields.get("order") is not None else None
    return view_store.update(view.id, data=data, order=order)


def delete_view(user: User, view_id: int) -> None:
    view, _ = view_for(user, view_id)
    if view.user_id != user.id and not user.can_manage_projects:
        raise PermissionDenied("Only the view's author or a manager can delete it.")
    view_store.delete(view.id)


def reset_views(user: User, project_id: int) -> None:
    project = access.project_for(user, project_id, manage=True)
    view_store.delete_for_project(project.id)


def order_views(user: User, project_id: int, view_ids: Any) -> None:
    """Put the project's views in the order of `view_ids` (ids of other projects' views are ignored, as
    Label Studio ignores them)."""
    project = access.project_for(user, project_id)
    if not isinstance(view_ids, list):
        kind = type(view_ids).__name__
        raise ValidationFailed.field("ids", f'Expected a list of items but got type "{kind}".')
    wanted = [field_types.integer(i, f"ids[{n}]", maximum=field_types.ID_MAX) for n, i in enumerate(view_ids)]
    current = {v.id: v for v in view_store.list_for_project(project.id)}
    for position, view_id in enumerate(wanted):
        if view_id in current and current[view_id].order != position:
            view_store.update(view_id, order=position)


def scope(user: User, project: Project, raw_query: Any = None, view_id: int | None = None) -> TaskQuery:
    """The tasks a request is about, as Label Studio's `get_prepare_params` finds them: the view's
    filters, ordering and selection when a view is named (it must be the project's), else the query
    sent (`?query=` or the body)."""
    if view_id:
        return query_of(in_project(user, project, view_id).data)
    return parse_task_query(raw_query)
