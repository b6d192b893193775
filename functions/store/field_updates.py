"""A change of some fields of one item (a PATCH) as one conditional UpdateItem.

The write SETs the fields the change carries, and only those, and adds 1 to the item's `version`; its
condition is that the item exists and, when the client stated the version its change is based on, that
the version is still that one. So concurrent changes of different fields all land, none is lost, and a
change is refused as stale (Conflict) only when its client asked for that check. No read-modify-write:
what is written does not come from an earlier read of the item, and the write itself answers with the
item just before or just after it.

For the store's tables keyed by an integer `id`, with a `version` attribute where edits are versioned.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pynamodb.constants import ALL_NEW, ALL_OLD, ATTRIBUTES
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from functions.domain.errors import Conflict, NotFound
from functions.store import blobs
from functions.store.errors import is_condition_failure

M = TypeVar("M", bound=Model)


def set_or_remove(attribute: Any, value: Any) -> Action:
    """SET a value; an absent one (None) is REMOVEd, as the item would not hold it either."""
    return attribute.set(value) if value is not None else attribute.remove()


def child_actions(
    model: type[Model], changes: dict[str, Any], changeable: Any, result_key: str, what: str
) -> list[Action]:
    """The actions setting an annotation's or prediction's changed fields; its `result` is packed as it
    is stored (offloaded to `result_key` when large)."""
    actions: list[Action] = []
    for name, value in changes.items():
        if name == "result":
            result, result_ref = blobs.pack(value, result_key)
            actions += [
                set_or_remove(model.result, result),  # type: ignore[attr-defined]
                set_or_remove(model.result_ref, result_ref),  # type: ignore[attr-defined]
            ]
        elif name in changeable:
            actions.append(set_or_remove(getattr(model, name), value))
        else:
            raise ValueError(f"{name!r} is not a field {what} change sets")
    return actions


def update(
    model: type[M],
    key: int,
    actions: list[Action],
    *,
    returning: Literal["old", "new"],
    expected_version: int | None = None,
    condition: Condition | None = None,
    stale: str = "It was changed by someone else; reload it and try again.",
    missing: str,
) -> M:
    """Apply `actions` to item `key` of `model` (and add 1 to its `version` if the model has one).

    Returns the item as it was just before the write (`returning="old"`: with `actions` applied it is
    exactly what the write left, so a caller learns what it changed from) or just after it (`"new"`).
    Refused, nothing written: NotFound (`missing`) when there is no such item; Conflict (`stale`) when
    the item's version is not `expected_version` or `condition` does not hold.
    """
    versioned = "version" in model.get_attributes()
    if expected_version is not None and not versioned:
        raise ValueError(f"{model.__name__} has no version to compare")
    full: Condition = model.get_attributes()["id"].exists()
    if expected_version is not None:
        full &= model.get_attributes()["version"] == expected_version
    if condition is not None:
        full &= condition
    if versioned:
        actions = [*actions, model.get_attributes()["version"].add(1)]
    try:
        answer = model._get_connection().update_item(
            str(key),
            actions=actions,
            condition=full,
            return_values=ALL_OLD if returning == "old" else ALL_NEW,
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        try:
            model.get(key, consistent_read=True, attributes_to_get=["id"])
        except model.DoesNotExist:
            raise NotFound(missing) from None
        raise Conflict(stale) from exc
    return model.from_raw_data(answer[ATTRIBUTES])
