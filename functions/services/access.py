"""Who may see and change what.

A project, and everything inside it, exists for a caller only if the caller is an admin or a member:
anyone else gets the same 404 as for a missing id, so ids of other teams' projects leak nothing.
"""

from __future__ import annotations

from functions.domain.errors import NotFound, PermissionDenied
from functions.domain.records import Project, Task, User
from functions.store import projects as project_store
from functions.store import tasks as task_store

PROJECT_NOT_FOUND = "No Project matches the given query."


def project_for(user: User, project_id: int, *, manage: bool = False) -> Project:
    """The project if `user` may see it; with `manage`, only if the user may also change it."""
    project = project_store.get(project_id)
    if not user.is_admin and not project_store.is_member(project_id, user.id):
        raise NotFound(PROJECT_NOT_FOUND)
    if manage and not user.can_manage_projects:
        raise PermissionDenied("You do not have permission to perform this action.")
    return project


def task_for(user: User, task_id: int, *, manage: bool = False) -> tuple[Task, Project]:
    task = task_store.get(task_id)
    try:
        project = project_for(user, task.project_id, manage=manage)
    except NotFound:
        raise NotFound("No Task matches the given query.") from None
    return task, project


def require_manager(user: User) -> None:
    if not user.can_manage_projects:
        raise PermissionDenied("You do not have permission to perform this action.")
