"""Data Manager views: the saved tabs of a project's task list."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from functions.api.schemas.common import BodyInt, RequestBody, ResponseBody

_DATA = (
    "The tab as the Data Manager saves it: `title`, `filters` (`{conjunction, items: [{filter, operator, "
    'type, value}]}`), `ordering` (`["-tasks:id"]`), `hiddenColumns` (`{explore: [...], labeling: '
    "[...]}`) and any other key the client keeps. Filters and ordering are checked as a task query's."
)


class ViewRequest(RequestBody):
    project: BodyInt = Field(description="The project the view belongs to.")
    data: dict[str, Any] | None = Field(None, description=_DATA)
    order: BodyInt | None = Field(None, description="The tab's place, from the left; new tabs go last.")


class PatchedViewRequest(RequestBody):
    project: BodyInt | None = Field(None, description="The view's own project (a view cannot move).")
    data: dict[str, Any] | None = Field(None, description=f"{_DATA} Replaces the view's data whole.")
    order: BodyInt | None = None


class View(ResponseBody):
    id: int
    data: dict[str, Any]
    order: int | None
    user: int | None = Field(description="Who made the view.")
    project: int


class ViewOrderRequest(RequestBody):
    project: BodyInt
    ids: list[BodyInt] = Field(description="The project's view ids in the order wanted.")


class ViewResetRequest(RequestBody):
    project: BodyInt | None = Field(None, description="The project whose views to delete (or `?project=`).")
