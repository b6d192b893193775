"""The export format catalogue and which formats a labeling config supports.

Label Studio answers GET /api/projects/{id}/export/formats with the SDK converter's `_FORMAT_INFO` (each
entry plus its `name`), marking the formats `Converter._get_supported_formats` rejects for the project's
`parsed_label_config` as `"disabled": true` and sorting them last (`data_export/models.py`
`DataExport.get_export_formats`). The rules below are the SDK's, including its operator precedence.
"""

from __future__ import annotations

import copy

from functions.domain.label_config import LabelConfig

_IMAGE_TAGS = ["image segmentation", "object detection", "keypoints"]

# In `_FORMAT_INFO` order, keys in the order Label Studio serializes them.
FORMATS: tuple[dict, ...] = (
    {
        "title": "JSON",
        "description": "List of items in raw JSON format stored in one JSON file. Use to export both the "
        "data and the annotations for a dataset. It's Label Studio Common Format",
        "link": "https://labelstud.io/guide/export.html#JSON",
        "name": "JSON",
    },
    {
        "title": "JSON-MIN",
        "description": 'List of items where only "from_name", "to_name" values from the raw JSON format are '
        "exported. Use to export only the annotations for a dataset.",
        "link": "https://labelstud.io/guide/export.html#JSON-MIN",
        "name": "JSON_MIN",
    },
    {
        "title": "CSV",
        "description": "Results are stored as comma-separated values with the column names specified by the "
        'values of the "from_name" and "to_name" fields.',
        "link": "https://labelstud.io/guide/export.html#CSV",
        "name": "CSV",
    },
    {
        "title": "TSV",
        "description": "Results are stored in tab-separated tabular file with column names specified by "
        '"from_name" "to_name" values',
        "link": "https://labelstud.io/guide/export.html#TSV",
        "name": "TSV",
    },
    {
        "title": "CONLL2003",
        "description": "Popular format used for the CoNLL-2003 named entity recognition challenge.",
        "link": "https://labelstud.io/guide/export.html#CONLL2003",
        "tags": ["sequence labeling", "text tagging", "named entity recognition"],
        "name": "CONLL2003",
    },
    {
        "title": "COCO",
        "description": "Popular machine learning format used by the COCO dataset for object detection and "
        "image segmentation tasks with polygons and rectangles.",
        "link": "https://labelstud.io/guide/export.html#COCO",
        "tags": _IMAGE_TAGS,
        "name": "COCO",
    },
    {
        "title": "COCO with Images",
        "description": "COCO format with images downloaded.",
        "link": "https://labelstud.io/guide/export.html#COCO",
        "tags": _IMAGE_TAGS,
        "name": "COCO_WITH_IMAGES",
    },
    {
        "title": "Pascal VOC XML",
        "description": "Popular XML format used for object detection and polygon image segmentation tasks.",
        "link": "https://labelstud.io/guide/export.html#Pascal-VOC-XML",
        "tags": ["image segmentation", "object detection"],
        "name": "VOC",
    },
    {
        "title": "YOLO",
        "description": "Popular TXT format is created for each image file. Each txt file contains "
        "annotations for the corresponding image file, that is object class, object coordinates, "
        "height & width.",
        "link": "https://labelstud.io/guide/export.html#YOLO",
        "tags": _IMAGE_TAGS,
        "name": "YOLO",
    },
    {
        "title": "YOLO with Images",
        "description": "YOLO format with images downloaded.",
        "link": "https://labelstud.io/guide/export.html#YOLO",
        "tags": _IMAGE_TAGS,
        "name": "YOLO_WITH_IMAGES",
    },
    {
        "title": "YOLOv8 OBB",
        "description": "Popular TXT format is created for each image file. Each txt file contains "
        "annotations for the corresponding image file. The YOLO OBB format designates bounding boxes by "
        "their four corner points with coordinates normalized between 0 and 1, so it is possible to "
        "export rotated objects.",
        "link": "https://labelstud.io/guide/export.html#YOLO",
        "tags": ["image segmentation", "object detection"],
        "name": "YOLO_OBB",
    },
    {
        "title": "YOLOv8 OBB with Images",
        "description": "YOLOv8 OBB format with images downloaded.",
        "link": "https://labelstud.io/guide/export.html#YOLO",
        "tags": ["image segmentation", "object detection"],
        "name": "YOLO_OBB_WITH_IMAGES",
    },
    {
        "title": "Brush labels to NumPy",
        "description": "Export your brush labels as NumPy 2d arrays. Each label outputs as one image.",
        "link": "https://labelstud.io/guide/export.html#Brush-labels-to-NumPy-amp-PNG",
        "tags": ["image segmentation"],
        "name": "BRUSH_TO_NUMPY",
    },
    {
        "title": "Brush labels to PNG",
        "description": "Export your brush labels as PNG images. Each label outputs as one image.",
        "link": "https://labelstud.io/guide/export.html#Brush-labels-to-NumPy-amp-PNG",
        "tags": ["image segmentation"],
        "name": "BRUSH_TO_PNG",
    },
    {
        "title": "ASR Manifest",
        "description": "Export audio transcription labels for automatic speech recognition as the JSON "
        "manifest format expected by NVIDIA NeMo models.",
        "link": "https://labelstud.io/guide/export.html#ASR-MANIFEST",
        "tags": ["speech recognition"],
        "name": "ASR_MANIFEST",
    },
    {
        "title": "Brush labels to COCO",
        "description": "Export your brush labels as COCO format for segmentation tasks. Converts RLE encoded "
        "masks to COCO polygons.",
        "link": "https://labelstud.io/guide/export.html#COCO",
        "tags": ["image segmentation", "brush annotations"],
        "name": "BRUSH_TO_COCO",
    },
    {
        "title": "DocLang (.dclx)",
        "description": "Package annotations from the Doclang Interface as DocLang OPC archives "
        "(document.xml + page image) for downstream Docling model training.",
        "link": "https://github.com/doclang-project/doclang/blob/main/spec.md#doclang-archive-format",
        "tags": ["document", "doclang"],
        "name": "DOCLANG",
    },
)

FORMAT_NAMES: tuple[str, ...] = tuple(f["name"] for f in FORMATS)


def formats_for_config(config: LabelConfig) -> list[dict]:
    """The catalogue for a project: every format, unsupported ones with `"disabled": True`, listed last."""
    supported = supported_formats(config.parsed)
    formats = []
    for info in FORMATS:
        info = copy.deepcopy(info)
        if info["name"] not in supported:
            info["disabled"] = True
        formats.append(info)
    return sorted(formats, key=lambda f: f.get("disabled", False))


def data_keys(parsed: dict) -> list[str]:
    """The SDK's `_data_keys`: the `value`/`valueList` of every object tag a control points at, as written
    (`$meta.text` gives "meta.text"). Only its length matters to the SDK when there are several."""
    keys: dict[str, None] = {}
    for info in parsed.values():
        for input_tag in info.get("inputs", ()):
            for attribute in ("value", "valueList"):
                if attribute in input_tag:
                    keys[input_tag[attribute]] = None
    return list(keys)


def supported_formats(parsed: dict) -> set[str]:
    """`Converter._get_supported_formats` for a `parsed_label_config`."""
    supports_doclang = any(
        info.get("type") in {"TextArea", "ReactCode", "CustomInterface"} for info in parsed.values()
    )
    if len(data_keys(parsed)) > 1:
        formats = {"JSON", "JSON_MIN", "CSV", "TSV"}
        return formats | {"DOCLANG"} if supports_doclang else formats

    outputs: set[str] = set()
    inputs: set[str] = set()
    multi_image = False
    for info in parsed.values():
        outputs.add(info["type"])
        for input_tag in info.get("inputs", ()):
            if input_tag.get("valueList"):
                multi_image = True
            if input_tag["type"] == "Text" and input_tag.get("valueType") == "url":
                continue  # the SDK can't read text from a URL
            inputs.add(input_tag["type"])

    formats = set(FORMAT_NAMES)
    if not supports_doclang:
        formats.discard("DOCLANG")
    if "KeyPointLabels" in outputs and "RectangleLabels" not in outputs:
        # COCO/YOLO hang keypoints off rectangles' categories.
        formats -= {"COCO", "COCO_WITH_IMAGES", "YOLO", "YOLO_WITH_IMAGES"}
    if not ("Text" in inputs and "Labels" in outputs):
        formats.discard("CONLL2003")
    rectangles = "RectangleLabels" in outputs or ("Rectangle" in outputs and "Labels" in outputs)
    if multi_image or not ("Image" in inputs and rectangles):
        formats.discard("VOC")
    # Python precedence as in the SDK: `not (A and B or C and D or ...)`, so a `<Rectangle>` + `<Labels>`
    # config qualifies even without an `<Image>`.
    if multi_image or not (
        (
            "Image" in inputs
            and ("RectangleLabels" in outputs or "PolygonLabels" in outputs or "KeyPointLabels" in outputs)
        )
        or ("Rectangle" in outputs and "Labels" in outputs)
        or ("PolygonLabels" in outputs and "Labels" in outputs)
        or ("KeyPointLabels" in outputs and "Labels" in outputs)
    ):
        formats -= {
            "COCO",
            "COCO_WITH_IMAGES",
            "YOLO",
            "YOLO_WITH_IMAGES",
            "YOLO_OBB",
            "YOLO_OBB_WITH_IMAGES",
        }
    brushes = (
        "BrushLabels" in outputs or "brushlabels" in outputs or ("Brush" in outputs and "Labels" in outputs)
    )
    if not ("Image" in inputs and brushes):
        formats -= {"BRUSH_TO_NUMPY", "BRUSH_TO_PNG", "BRUSH_TO_COCO"}
    if not (("Audio" in inputs or "AudioPlus" in inputs) and "TextArea" in outputs):
        formats.discard("ASR_MANIFEST")
    if multi_image or ("Video" in inputs and "TimelineLabels" in outputs):
        formats -= {"YOLO_OBB", "YOLO_OBB_WITH_IMAGES"}
    return formats
