"""YOLO and YOLOv8 OBB label files, without images (label-studio-sdk `Converter.convert_to_yolo`,
`exports/yolo.py`).

Label Studio zips the converter's output directory: `images/` (empty), `labels/<image name>.txt`,
`classes.txt` and `notes.json`. Coordinates are already relative in Label Studio (percent), so no image
size is needed. As in the SDK:

- a label file is named after the image (see `coco.cached_image_path`), so every annotation of a task,
  and every task showing the same image, writes the same file. Each item with results rewrites it;
  items run newest first, so the task's *oldest* annotation with results is what the file ends with. An
  item without results only creates the file if it does not exist yet.
- the config's labels (of every control, Choices included) number the classes; labels found only in
  results are appended as they are met.
"""

from __future__ import annotations

import math
import posixpath
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import IO

from functions.domain.export_formats import jsontext
from functions.domain.export_formats.coco import (
    Categories,
    cached_image_path,
    config_categories,
    keypoint_order,
    labels_of_type,
)
from functions.domain.export_formats.items import ControlMatcher, Item, task_items

_MAX_NAME = 255 - 4  # the SDK trims long names (URLs) to fit "<name>.txt" in 255 bytes


def write_yolo(
    tasks: Callable[[], Iterable[dict]], parsed: dict, data_key: str, out: IO[bytes], *, obb: bool = False
) -> None:
    """Two passes: the first finds which task each label file's final content comes from (a later task
    showing the same image overwrites it), the second writes each file once, from that task. The map
    holds one entry per label file, as the zip's own directory does."""
    matcher = ControlMatcher(parsed)
    keypoints = any(info.get("type") == "KeyPointLabels" for info in parsed.values())
    categories = _keypoint_categories(parsed) if keypoints else config_categories(parsed)
    kp_order = keypoint_order(parsed) if keypoints else []

    def items_of(task: dict):
        # The SDK adds region ids (which keypoints point at their rectangle with) only for keypoints.
        return task_items(task, parsed, matcher, region_ids=keypoints)

    owners: dict[str, int] = {}
    for index, task in enumerate(tasks()):
        for item in items_of(task):
            name = label_file_name(item, data_key)
            if name is None:
                continue
            if item.output:
                owners[name] = index
            else:
                owners.setdefault(name, index)

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.mkdir("images")
        archive.mkdir("labels")
        for index, task in enumerate(tasks()):
            contents: dict[str, str] = {}
            for item in items_of(task):
                name = label_file_name(item, data_key)
                if name is None:
                    continue
                if not item.output:
                    contents.setdefault(name, "")
                    continue
                # Computed for every item, not just the owners': it assigns ids to labels missing from
                # the config in the order the SDK meets them.
                labels = [value for values in item.output.values() for value in values]
                if keypoints:
                    contents[name] = _keypoint_lines(labels, categories, kp_order)
                else:
                    contents[name] = _label_lines(labels, categories, obb)
            for name, content in contents.items():
                if owners.get(name) == index:
                    archive.writestr(f"labels/{name}.txt", content)
        archive.writestr("classes.txt", "".join(c["name"] + "\n" for c in categories.list))
        notes = {
            "categories": categories.list,
            "info": {"year": datetime.now().year, "version": "1.0", "contributor": "Label Studio"},
        }
        archive.writestr("notes.json", jsontext.dumps(notes, indent=2, ensure_ascii=True))


def label_file_name(item: Item, data_key: str) -> str | None:
    """The label file's name without `.txt`, or None when the SDK writes none for this item. For a list of
    images the SDK uses the last one."""
    value = item.data.get(data_key)
    if isinstance(value, list):
        value = value[-1] if value else None
    if not isinstance(value, str):
        return None
    image = cached_image_path(value)
    return posixpath.splitext(posixpath.basename(image))[0][:_MAX_NAME]


def _keypoint_categories(parsed: dict) -> Categories:
    """`get_yolo_categories_for_keypoints`: one class per rectangle label, each listing every keypoint."""
    keypoints = labels_of_type(parsed, "KeyPointLabels")
    rectangles = labels_of_type(parsed, "RectangleLabels")
    return Categories([{"id": i, "name": name, "keypoints": keypoints} for i, name in enumerate(rectangles)])


def _label_lines(labels: list[dict], categories: Categories, obb: bool) -> str:
    """`process_and_save_yolo_annotations`: a line per (region, label), multi-label regions repeated."""
    lines = []
    for label in labels:
        names = [
            name
            for key in ("rectanglelabels", "polygonlabels", "labels")
            if key in label and len(label[key]) > 0
            for name in label[key]
        ]
        for name in names:
            category_id = categories.id_for(name)
            if "rectanglelabels" in label or "rectangle" in label or "labels" in label:
                values = _obb_corners(label) if obb else _box(label)
                if values is None:
                    continue
            elif "polygonlabels" in label or "polygon" in label:
                if "points" not in label:
                    continue
                values = [coord for x, y in label["points"] for coord in (x / 100, y / 100)]
            else:
                continue
            lines.append(" ".join(str(v) for v in (category_id, *values)) + "\n")
    return "".join(lines)


def _box(label: dict) -> list[float] | None:
    """`convert_annotation_to_yolo`: center x, center y, width, height, relative."""
    if not ("x" in label and "y" in label and "width" in label and "height" in label):
        return None
    try:
        x, y, w, h = label["x"], label["y"], label["width"], label["height"]
        if x is None or y is None or w is None or h is None:
            return None
        return [(x + w / 2) / 100, (y + h / 2) / 100, w / 100, h / 100]
    except (TypeError, ValueError):
        return None


def _obb_corners(label: dict) -> list[float] | None:
    """`convert_annotation_to_yolo_obb`: the four corners of the rotated box, relative. Needs the image
    size and an explicit `rotation`."""
    if not all(
        k in label for k in ("original_width", "original_height", "x", "y", "width", "height", "rotation")
    ):
        return None
    width, height = label["original_width"], label["original_height"]
    x = label["x"] / 100 * width
    y = label["y"] / 100 * height
    w = label["width"] / 100 * width
    h = label["height"] / 100 * height
    rotation = math.radians(label.get("rotation", 0))
    cos, sin = math.cos(rotation), math.sin(rotation)
    corners = [
        (x, y),
        (x + w * cos, y + w * sin),
        (x + w * cos - h * sin, y + w * sin + h * cos),
        (x - h * sin, y + h * cos),
    ]
    return [coord for cx, cy in corners for coord in (cx / width, cy / height)]


def _keypoint_lines(labels: list[dict], categories: Categories, kp_order: list[str]) -> str:
    """`process_keypoints_for_yolo`: a line per labeled rectangle, followed by `x y visibility` for each
    keypoint in `model_index` order whose `parentID` is that rectangle (0.0 0.0 0 when absent)."""
    class_ids = {c["name"]: c["id"] for c in categories.list}
    rectangles: dict = {}
    for label in labels:
        if label["type"].lower() != "rectanglelabels":
            continue
        names = label.get("rectanglelabels") or []
        if not names or class_ids.get(names[0]) is None:
            continue
        x, y = label["x"] / 100.0, label["y"] / 100.0
        width, height = label["width"] / 100.0, label["height"] / 100.0
        rectangles[label["id"]] = {
            "base": [class_ids[names[0]], x + width / 2.0, y + height / 2.0, width, height],
            "keypoints": {},
        }
    for label in labels:
        if label["type"].lower() != "keypointlabels":
            continue
        parent = label.get("parentID")
        names = label.get("keypointlabels") or []
        if parent not in rectangles or not names:
            continue
        rectangles[parent]["keypoints"][names[0]] = (label["x"] / 100.0, label["y"] / 100.0, 2)
    lines = []
    for rectangle in rectangles.values():
        values = list(rectangle["base"])
        for name in kp_order:
            values.extend(rectangle["keypoints"].get(name, (0.0, 0.0, 0)))
        lines.append(" ".join(map(str, values)))
    return "\n".join(lines)
