"""COCO, without downloading images (label-studio-sdk `Converter.convert_to_coco`, `keypoints.py`).

Label Studio zips the converter's output directory: `result.json` and an empty `images/` folder. Without
the image files, sizes come from each region's `original_width`/`original_height`; a region without them
is left out, as in the SDK. The SDK's item-level bookkeeping is kept as is: an image entry is added per
item (so per annotation, not per task), when its first sized region is seen, or with null sizes for an item
without results; an item whose regions are all unsized or unlabeled adds no image at all.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import posixpath
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO
from urllib.parse import urlparse

from functions.domain.export_formats import jsontext
from functions.domain.export_formats.items import Item, iter_items
from functions.domain.export_formats.sink import TextSink

_CLOUD_PREFIXES = ("s3:", "gs:", "azure-blob:")
_CATEGORY_KEYS = ("rectanglelabels", "polygonlabels", "keypointlabels", "labels")


class Categories:
    """Category ids by label name. Labels found in results but not in the config get the next id
    (`len(categories)`, as the SDK does, even if an explicit `category` already took it)."""

    def __init__(self, categories: list[dict], ids: dict[str, int] | None = None):
        self.list = categories
        self._ids = {c["name"]: c["id"] for c in categories} if ids is None else ids

    def id_for(self, name: str) -> int:
        if name not in self._ids:
            self._ids[name] = len(self.list)
            self.list.append({"id": len(self.list), "name": name})
        return self._ids[name]

    def get(self, name: str, default: int) -> int:
        return self._ids.get(name, default)


def config_categories(parsed: dict) -> Categories:
    """The SDK's `_get_labels`: the labels of *every* control (Choices included); a label's `category`
    attribute fixes its id, the rest are numbered in sorted order through the ids left free."""
    names: set[str] = set()
    categories = []
    explicit: dict[str, int] = {}
    for info in parsed.values():
        names |= set(info.get("labels", ()))
        for label, attrs in (info.get("labels_attrs") or {}).items():
            try:
                category_id = int(attrs.get("category"))
            except (TypeError, ValueError):
                continue  # absent, or not a number: the SDK ignores it too
            categories.append({"id": category_id, "name": label})
            explicit[label] = category_id
    taken = set(explicit.values())
    free_ids = (i for i in itertools.count() if i not in taken)
    for label, category_id in zip(sorted(names - set(explicit)), free_ids, strict=False):
        categories.append({"id": category_id, "name": label})
    return Categories(categories, {c["name"]: c["id"] for c in categories} | explicit)


def labels_of_type(parsed: dict, tag: str) -> list[str]:
    """The labels of every `tag` control, in config order, without repeats."""
    labels: dict[str, None] = {}
    for info in parsed.values():
        if info.get("type") == tag:
            labels.update(dict.fromkeys(info.get("labels", ())))
    return list(labels)


def coco_categories(parsed: dict) -> Categories:
    """`update_categories_for_keypoints`: all keypoint labels share one "default" category after the
    others."""
    categories = config_categories(parsed)
    keypoints = labels_of_type(parsed, "KeyPointLabels")
    if not keypoints:
        return categories
    kept = [dict(c) for c in categories.list if c["name"] not in keypoints]
    numeric = [c["id"] for c in kept if isinstance(c["id"], int)]
    merged_id = max(numeric) + 1 if numeric else 0
    # "default" itself is not a label name: a result labeled "default" gets a category of its own.
    ids = {c["name"]: c["id"] for c in kept} | dict.fromkeys(keypoints, merged_id)
    merged = {
        "id": merged_id,
        "name": "default",
        "supercategory": "default",
        "keypoints": keypoints,
        "skeleton": [],
    }
    return Categories([*kept, merged], ids)


def keypoint_order(parsed: dict) -> list[str]:
    """`build_kp_order`: keypoint labels ordered by their `model_index` attribute."""
    attrs: dict[str, dict] = {}
    for info in parsed.values():
        if info.get("type") == "KeyPointLabels":
            attrs.update(info.get("labels_attrs") or {})
    pairs, used = [], set()
    for name, label_attrs in attrs.items():
        try:
            index = int(label_attrs.get("model_index"))  # type: ignore[arg-type]  # None: TypeError, below
        except (TypeError, ValueError):
            continue
        if index not in used:
            pairs.append((index, name))
            used.add(index)
    return [name for _, name in sorted(pairs, key=lambda p: p[0])]


def cached_image_path(url: str) -> str:
    """The image path the SDK records when it does not download images (its `get_local_path` with
    `download_resources=False`): `images/<md5(url)[:8]>__<file name>` for a URL it could fetch itself.
    Uploaded files, Local Storage files, storage-proxy URLs and cloud URIs need a Label Studio host to
    resolve, which the SDK is not given, so for those it keeps the URL as is."""
    if (
        url.startswith(("upload", "/upload", "/data/upload"))
        or url.startswith(_CLOUD_PREFIXES)
        or (url.startswith("/data/") and "?d=" in url)
    ):
        return url
    try:
        path = urlparse(url).path
        digest = hashlib.md5(url.encode(), usedforsecurity=False).hexdigest()[:8]
    except (ValueError, UnicodeError):
        return url
    if path.startswith(("/storage-data/uploaded", "storage-data/uploaded")):
        return url
    return f"images/{digest}__{posixpath.basename(path)}"


def write_coco(tasks: Callable[[], Iterable[dict]], parsed: dict, data_key: str, out: IO[bytes]) -> None:
    """Two passes over the tasks: images (which settle the categories), then annotations, so that
    `result.json` can be written in the SDK's key order without holding either list."""
    categories = coco_categories(parsed)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.mkdir("images")
        with archive.open("result.json", "w", force_zip64=True) as entry:
            sink = TextSink(entry)
            sink.write('{\n  "images": ')
            _write_list(
                sink, (v for kind, v in _walk(tasks(), parsed, data_key, categories) if kind == "image")
            )
            sink.write(',\n  "categories": ')
            sink.write(jsontext.dumps(categories.list, indent=2, ensure_ascii=True, level=1))
            sink.write(',\n  "annotations": ')
            _write_list(
                sink, (v for kind, v in _walk(tasks(), parsed, data_key, categories) if kind == "annotation")
            )
            now = datetime.now()
            info = {
                "year": now.year,
                "version": "1.0",
                "description": "",
                "contributor": "Label Studio",
                "url": "",
                "date_created": str(now),
            }
            sink.write(',\n  "info": ' + jsontext.dumps(info, indent=2, ensure_ascii=True, level=1) + "\n}")
            sink.flush()


def _write_list(sink: TextSink, values: Iterator[dict]) -> None:
    empty = True
    for value in values:
        sink.write(
            ("[\n    " if empty else ",\n    ") + jsontext.dumps(value, indent=2, ensure_ascii=True, level=2)
        )
        empty = False
    sink.write("[]" if empty else "\n  ]")


def _walk(tasks: Iterable[dict], parsed: dict, data_key: str, categories: Categories):
    """("image", entry) and ("annotation", entry) in the SDK's order."""
    image_count = annotation_count = 0
    kp_order = None
    for item in iter_items(tasks, parsed):
        image_path = _image_path(item, data_key)
        image_id = image_count
        width = height = None
        if not item.output:
            yield "image", _image(None, None, image_id, image_path)
            image_count += 1
            continue
        keypoint_labels = []
        for label in itertools.chain.from_iterable(item.output.values()):
            category_name = next(
                (label[k][0] for k in _CATEGORY_KEYS if k in label and len(label[k]) > 0), None
            )
            if category_name is None:
                continue
            if not height or not width:
                if "original_width" not in label or "original_height" not in label:
                    continue
                width, height = label["original_width"], label["original_height"]
                yield "image", _image(width, height, image_id, image_path)
                image_count += 1
            category_id = categories.id_for(category_name)
            if "rectanglelabels" in label or "labels" in label:
                box = rotated_rectangle(label)
                if box is None:
                    continue
                x, y, w, h = box
                # Each rectangle scales by its own size (the polygon branch uses the item's), as in the SDK.
                region_width = label.get("original_width", width)
                region_height = label.get("original_height", height)
                x = x * region_width / 100
                y = y * region_height / 100
                w = w * region_width / 100
                h = h * region_height / 100
                yield (
                    "annotation",
                    {
                        "id": annotation_count,
                        "image_id": image_id,
                        "category_id": category_id,
                        "segmentation": [],
                        "bbox": [x, y, w, h],
                        "ignore": 0,
                        "iscrowd": 0,
                        "area": w * h,
                    },
                )
                annotation_count += 1
            elif "polygonlabels" in label:
                points = [(px / 100 * width, py / 100 * height) for px, py in label.get("points") or ()]
                if not points:
                    continue  # the SDK fails the export on an empty polygon
                xs, ys = zip(*points, strict=True)
                yield (
                    "annotation",
                    {
                        "id": annotation_count,
                        "image_id": image_id,
                        "category_id": category_id,
                        "segmentation": [[coord for point in points for coord in point]],
                        "bbox": [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)],
                        "ignore": 0,
                        "iscrowd": 0,
                        "area": polygon_area(xs, ys),
                    },
                )
                annotation_count += 1
            elif "keypointlabels" in label:
                keypoint_labels.append(label)
        if keypoint_labels:
            if kp_order is None:
                kp_order = keypoint_order(parsed)
            yield (
                "annotation",
                _keypoints_annotation(keypoint_labels, kp_order, annotation_count, image_id, categories),
            )
            annotation_count += 1


def _image_path(item: Item, data_key: str):
    value = item.data.get(data_key)
    return cached_image_path(value) if isinstance(value, str) else value


def _image(width, height, image_id: int, file_name) -> dict:
    return {"width": width, "height": height, "id": image_id, "file_name": file_name}


def rotated_rectangle(label: dict) -> tuple[float, float, float, float] | None:
    """The SDK's `Converter.rotated_rectangle`: the axis-aligned box around a rotated rectangle, in
    percent."""
    if not ("x" in label and "y" in label and "width" in label and "height" in label):
        return None
    x, y, w, h = label["x"], label["y"], label["width"], label["height"]
    r = label.get("rotation", 0.0)
    if abs(r) > 0:
        alpha = math.atan(h / w)
        beta = math.pi * (r / 180)  # Label Studio measures the angle from the vertical axis
        radius = math.sqrt((w / 2) ** 2 + (h / 2) ** 2)
        # Label Studio stores the top left corner after rotation.
        x_0 = x - radius * (math.cos(math.pi - alpha - beta) - math.cos(math.pi - alpha)) + w / 2
        y_0 = y + radius * (math.sin(math.pi - alpha - beta) - math.sin(math.pi - alpha)) + h / 2
        thetas = (alpha + beta, math.pi - alpha + beta, math.pi + alpha + beta, 2 * math.pi - alpha + beta)
        xs = [x_0 + radius * math.cos(t) for t in thetas]
        ys = [y_0 + radius * math.sin(t) for t in thetas]
        x, y = min(xs), min(ys)
        w, h = max(xs) - x, max(ys) - y
    return x, y, w, h


def polygon_area(xs: tuple, ys: tuple) -> float:
    """The shoelace formula as the SDK computes it (`0.5 * |x·roll(y, 1) - y·roll(x, 1)|`), summing in
    order. numpy's dot (OpenBLAS) also sums in order below 16 points, so those areas are bit-identical;
    with more points its blocked summation may differ in the last bits."""
    n = len(xs)
    left = right = 0.0
    for i in range(n):
        left += xs[i] * ys[i - 1]
        right += ys[i] * xs[i - 1]
    return float(0.5 * abs(left - right))


def _keypoints_annotation(
    labels: list[dict], kp_order: list[str], annotation_id: int, image_id: int, categories: Categories
) -> dict:
    """`process_keypoints_for_coco`: one annotation per item holding all its keypoints."""
    if not kp_order:
        raise ValueError(
            "No keypoint order found. Please ensure that KeyPointLabels in your label config have "
            "'model_index' attributes defined. For example:\n"
            '<KeyPointLabels name="keypoints" toName="image">\n'
            '  <Label value="eye" model_index="0"/>\n'
            '  <Label value="nose" model_index="1"/>\n'
            "</KeyPointLabels>"
        )
    keypoints = [0] * (len(kp_order) * 3)
    for kp in labels:
        width, height = kp["original_width"], kp["original_height"]
        x, y = kp["x"] / 100 * width, kp["y"] / 100 * height
        names = kp.get("keypointlabels", [])
        visibility = 2 if names else 0
        for name in names:
            if name in kp_order:
                index = kp_order.index(name)
                keypoints[3 * index] = round(x)
                keypoints[3 * index + 1] = round(y)
                keypoints[3 * index + 2] = visibility
    visible = [i for i in range(len(kp_order)) if keypoints[3 * i + 2] > 0]
    if visible:
        xs = [keypoints[3 * i] for i in visible]
        ys = [keypoints[3 * i + 1] for i in visible]
        bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
    else:
        bbox = [0, 0, 0, 0]
    return {
        "id": annotation_id,
        "image_id": image_id,
        "category_id": categories.get(kp_order[0], 0),
        "keypoints": keypoints,
        "num_keypoints": len(visible),
        "bbox": bbox,
        "iscrowd": 0,
    }
