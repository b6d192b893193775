"""The editable fields of a project, each read as its type (Label Studio's project serializer rules).

A field's type is its annotation in `Project`, so a new setting is checked as soon as it is declared.
What is stored must come back as that type: every import reads `maximum_annotations` as the tasks'
overlap, the label stream compares `sampling`, the web UI reads the booleans.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from functions.domain import fields
from functions.domain.errors import ValidationFailed
from functions.domain.records import SAMPLING_MODES, SKIP_QUEUES, Project

TITLE_MAX = 50
COLOR_MAX = 16
MODEL_VERSION_MAX = 255
_READERS: dict[type, Callable[[Any, str], Any]] = {
    bool: fields.boolean,
    int: fields.integer,
    str: fields.text,
    dict: fields.mapping,
}
_BOUNDS: dict[str, dict[str, int]] = {
    "title": {"max_length": TITLE_MAX},
    "color": {"max_length": COLOR_MAX},
    "model_version": {"max_length": MODEL_VERSION_MAX},
    "maximum_annotations": {"minimum": 1},
    "min_annotations_to_start_training": {"minimum": 0},
    "overlap_cohort_percentage": {"minimum": 0, "maximum": 100},
}
_CHOICES = {"sampling": SAMPLING_MODES, "skip_queue": SKIP_QUEUES}


_NAMED = {kind.__name__: kind for kind in _READERS}
# records.py postpones annotations, so a field's type is its name as written there ("bool", "int", ...).
_TYPES = {
    spec.name: _NAMED[str(spec.type)] for spec in dataclasses.fields(Project) if str(spec.type) in _NAMED
}


def clean_project_fields(changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` (names of `Project` fields) with each value read as its field's type; a ValidationFailed
    naming the first field that is not. Values are normalized (`1.0` to 1, `"true"` to True).

    A null text field is left out, as not sent: Label Studio's text columns are nullable, so its own
    project JSON may carry nulls there. Null anywhere else is refused."""
    cleaned = {}
    for name, value in changes.items():
        if value is None and _TYPES[name] is str:
            continue
        read = _READERS[_TYPES[name]]
        cleaned[name] = read(value, name, **_BOUNDS.get(name, {}))
        if name in _CHOICES and cleaned[name] not in _CHOICES[name]:
            raise ValidationFailed.field(name, f'"{cleaned[name]}" is not a valid choice.')
    return cleaned


def fits(name: str, value: Any) -> bool:
    """Whether a stored setting has its field's type (a bool is no int here), so reading a project never
    hands on a value written before these checks existed: one that does not fit reads as the default."""
    kind = _TYPES.get(name)
    return kind is not None and type(value) is kind
