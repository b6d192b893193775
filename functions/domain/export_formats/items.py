"""Tasks as the SDK converter sees them: one item per kept annotation.

Follows label-studio-sdk `Converter.annotation_result_from_task` / `get_data` and `utils.prettify_result` /
`get_annotator`, which every non-JSON export format is built on:

- a task without an `annotations` (or legacy `completions`) key yields nothing;
- a task with no annotations yields one item with empty output and null annotation fields;
- skipped (`was_cancelled`) annotations are dropped, so a task whose annotations were all skipped yields
  nothing;
- the rest come newest first (by `created_at`, stable for ties);
- each item's `output` maps a result's `from_name` to its regions' `value`s, each tagged with the control's
  type (and `original_width`/`original_height` when the region has them). Results that name no control of
  the config (relations, stale controls) are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from functions.domain.user_patterns import PatternRefused, UserPattern, compile_user_pattern

_ABSENT = object()


@dataclass
class Item:
    task_id: Any
    data: dict
    output: dict[str, list[dict]]
    completed_by: Any = field(default_factory=dict)  # the SDK's default when there is no annotation
    annotation_id: Any = None
    created_at: Any = None
    updated_at: Any = None
    lead_time: Any = None
    history: Any = None
    agreement: Any = _ABSENT  # the task's, copied only onto annotation items, as the SDK does

    @property
    def has_agreement(self) -> bool:
        return self.agreement is not _ABSENT


class ControlMatcher:
    """The SDK's `_maybe_matching_tag_from_schema`: a `from_name` names a control exactly, or matches a
    Repeater control's name (`labels_{{idx}}`) with its index variables replaced by their regex; the
    longest such pattern wins. Like the SDK, a pattern matches a prefix of the name (`re.match`)."""

    def __init__(self, parsed: dict):
        self._parsed = parsed
        self._patterns: list[tuple[str, str, UserPattern]] = []  # (control name, pattern, compiled)
        for name, info in parsed.items():
            if not info.get("regex"):
                continue
            pattern = name
            for variable, regex in info["regex"].items():
                pattern = pattern.replace(variable, regex)
            # The name is not escaped (the SDK's rule), so this is a pattern the config's author wrote:
            # compiled for linear-time matching, as every user pattern is.
            try:
                self._patterns.append((name, pattern, compile_user_pattern(pattern)))
            except PatternRefused:
                continue  # the SDK would fail the whole export here; such a control just matches nothing

    def control(self, from_name: str) -> str | None:
        if from_name in self._parsed:
            return from_name
        best, best_length = None, 0
        for name, pattern, compiled in self._patterns:
            if compiled.match(from_name) and len(pattern) > best_length:
                best, best_length = name, len(pattern)
        return best


def iter_items(tasks: Iterable[dict], parsed: dict, *, region_ids: bool = False) -> Iterator[Item]:
    """Items for every task, in task order. `region_ids` adds each region's `id`/`parentID` to its value,
    which the SDK does only while exporting YOLO for a config with keypoints."""
    matcher = ControlMatcher(parsed)
    for task in tasks:
        yield from task_items(task, parsed, matcher, region_ids=region_ids)


def task_items(
    task: dict, parsed: dict, matcher: ControlMatcher, *, region_ids: bool = False
) -> Iterator[Item]:
    if "annotations" in task:
        annotations = task["annotations"] or []
    elif "completions" in task:
        annotations = task["completions"] or []
    else:
        return
    task_id = task.get("id")
    data = task.get("data") or {}
    if not annotations:
        yield Item(task_id=task_id, data=data, output={})
        return
    kept = [a for a in annotations if not (a.get("skipped", False) or a.get("was_cancelled", False))]
    # `sorted(..., reverse=True)` keeps equal keys in their original order, as the SDK's sort does.
    kept = sorted(kept, key=_created_at, reverse=True)
    for annotation in kept:
        item = Item(
            task_id=task_id,
            data=data,
            output=_output(annotation.get("result") or [], parsed, matcher, region_ids),
            completed_by=annotation.get("completed_by", {}),
            annotation_id=annotation.get("id"),
            created_at=annotation.get("created_at"),
            updated_at=annotation.get("updated_at"),
            lead_time=annotation.get("lead_time"),
            history=annotation.get("history"),
        )
        if "agreement" in task:
            item.agreement = task["agreement"]
        yield item


def _created_at(annotation: dict):
    # The SDK sorts on `created_at` with 0 as the default, which raises once strings and non-strings mix;
    # for the ISO strings annotations carry this is the same order.
    value = annotation.get("created_at")
    return value if isinstance(value, str) else ""


def _output(result: list, parsed: dict, matcher: ControlMatcher, region_ids: bool) -> dict[str, list[dict]]:
    outputs: dict[str, list[dict]] = {}
    for region in result:
        if not isinstance(region, dict):
            continue
        from_name = region.get("from_name")
        if not from_name:
            continue
        control = matcher.control(from_name)
        if control:
            # A shallow copy is enough: the writers add keys to it but never change nested values.
            value = dict(region.get("value") or {})
            value["type"] = parsed[control]["type"]
            _add_image_size(value, region)
            if region_ids:
                value["id"] = region.get("id")
                value["parentID"] = region.get("parentID")
        elif region.get("type") == "chatmessage":
            value = dict(region.get("value") or {})
            value["type"] = "chatmessage"
        elif not parsed:
            # An empty config (<View></View>, custom interfaces) matches no control: keep every region.
            value = dict(region.get("value") or {})
            value["type"] = region.get("type") or "unknown"
            _add_image_size(value, region)
        else:
            continue
        outputs.setdefault(from_name, []).append(value)
    return outputs


def _add_image_size(value: dict, region: dict) -> None:
    if "original_width" in region:
        value["original_width"] = region["original_width"]
    if "original_height" in region:
        value["original_height"] = region["original_height"]


def prettify(values: list[dict]):
    """The SDK's `prettify_result`: one Choices choice or one TextArea text becomes the bare string;
    anything else is the list of values without their `type`."""
    out = []
    tag_type = None
    for value in values:
        value = dict(value)
        tag_type = value.pop("type", None)
        if tag_type == "Choices" and len(value.get("choices") or ()) == 1:
            out.append(value["choices"][0])
        elif tag_type == "TextArea" and len(value.get("text") or ()) == 1:
            out.append(value["text"][0])
        elif tag_type in ("Chat", "chatmessage"):
            out.append(value.get("chatmessage", value))
        else:
            out.append(value)
    # The SDK decides on the *last* value's type: a single Choices value whose `choices` has two entries
    # is unwrapped to its dict.
    return out[0] if tag_type in ("Choices", "TextArea") and len(out) == 1 else out


def annotator(item: Item, default=None, *, int_id: bool = False):
    """The SDK's `get_annotator`: a user object gives its email, an id is kept as an int only for
    JSON_MIN; everything else is stringified (so a null `completed_by` becomes "None")."""
    completed_by = item.completed_by
    if isinstance(completed_by, dict):
        return completed_by.get("email", default)
    if isinstance(completed_by, int) and int_id:
        return completed_by
    return str(completed_by)
