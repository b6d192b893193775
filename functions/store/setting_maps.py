"""What users set on an item, kept one map entry per setting, so a PATCH writes only what it carries.

An item keeps its settings in `setting_values` (setting name -> the value as JSON text). A change SETs
the entries it carries (`setting_values.title`) in one conditional UpdateItem (field_updates.py), so
concurrent changes of different settings all land and none is lost, without a read-modify-write.

Items written before this kept all their settings in one JSON document (`settings` on projects, `fields`
elsewhere). They are read as they are; the first change of such an item moves its document into the map
(a SET of one entry of a map that does not exist is invalid), then applies the change.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from functions.domain.errors import Conflict
from functions.store import field_updates
from functions.store.errors import is_condition_failure

M = TypeVar("M", bound=Model)
MAP = "setting_values"


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def texts(values: dict[str, Any], text_of: Callable[[str, Any], str] | None = None) -> dict[str, str]:
    """The map's entries for `values` (`text_of` may check each one's size)."""
    text_of = text_of or (lambda _name, value: dumps(value))
    return {name: text_of(name, value) for name, value in values.items()}


def plain(value) -> dict:
    """A raw MapAttribute's value as a dict (PynamoDB hands back either form); anything else, {}."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    return value if isinstance(value, dict) else {}


def stored(document: str | None, entries, names: Iterable[str]) -> dict[str, Any]:
    """The settings an item holds: its map's entries over its old document, only those in `names`."""
    values = json.loads(document) if document else {}
    values.update({name: json.loads(text) for name, text in plain(entries).items()})
    wanted = set(names)
    return {name: value for name, value in values.items() if name in wanted}


def entry(name: str) -> Path:
    return Path([MAP, name])


def update(
    model: type[M],
    key: int,
    changes: dict[str, str],
    *,
    document: str,
    actions: Iterable[Action] = (),
    expected_version: int | None = None,
    unchanged: dict[str, str] | None = None,
    stale: str,
    missing: str,
) -> M:
    """SET the entries `changes` (name -> JSON text) and the other `actions` in one UpdateItem; return the
    item as it was just before it (field_updates.update, `returning="old"`).

    `unchanged` (name -> JSON text) makes the write conditional on those entries still holding that text:
    a value the caller derived from them would be stale otherwise (Conflict). `document` names the
    attribute that held the settings before the map.
    """
    all_actions = [*(entry(name).set(text) for name, text in changes.items()), *actions]
    condition: Condition = model.get_attributes()[MAP].exists()
    for name, text in (unchanged or {}).items():
        condition &= entry(name) == text

    def write() -> M:
        return field_updates.update(
            model,
            key,
            all_actions,
            returning="old",
            expected_version=expected_version,
            condition=condition,
            stale=stale,
            missing=missing,
        )

    try:
        return write()
    except Conflict:
        if not _move_to_map(model, key, document):
            raise
        return write()


def _move_to_map(model: type[Model], key: int, document: str) -> bool:
    """Give an item written before the map its entries (from its document); True if it had no map."""
    attributes = model.get_attributes()
    try:
        item = model.get(key, consistent_read=True)
    except model.DoesNotExist:
        return False
    if getattr(item, MAP) is not None:
        return False
    old = json.loads(getattr(item, document) or "{}")
    try:
        model(key).update(
            actions=[attributes[MAP].set(texts(old)), attributes[document].remove()],
            condition=attributes[MAP].does_not_exist(),
        )
    except UpdateError as exc:
        # Another writer moved it at the same moment, from the same document: either write will do.
        if not is_condition_failure(exc):
            raise
    return True
