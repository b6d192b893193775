"""Export formats: label-studio-sdk's `Converter` (what Label Studio runs) is the oracle, output by output."""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import random
import re
import tracemalloc
import zipfile
from pathlib import Path

import pytest
import ujson
from label_studio_sdk.converter import Converter
from label_studio_sdk.converter.utils import create_tokens_and_tags

from functions.domain.export_formats import FORMATS, ExportFile, formats_for_config, jsontext, write_export
from functions.domain.export_formats.conll import tokens_and_tags
from functions.domain.label_config import parse_label_config

# Answers captured from Label Studio 1.23.2 (tests/fixtures/ls-samples/README.md says what each is).
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "ls-samples"

# --------------------------------------------------------------------------------------------------------
# Building a Label Studio JSON export


def annotation(
    ann_id: int, user, created_at: str, result: list, *, cancelled: bool = False, lead_time=2.5, **extra
) -> dict:
    return {
        "id": ann_id,
        "completed_by": user,
        "result": result,
        "was_cancelled": cancelled,
        "ground_truth": False,
        "created_at": created_at,
        "updated_at": created_at.replace("00Z", "09Z"),
        "draft_created_at": None,
        "lead_time": lead_time,
        "prediction": {},
        "result_count": len(result),
        "unique_id": f"unique-{ann_id}",
        "import_id": None,
        "last_action": None,
        "bulk_created": False,
        "project": 7,
        "updated_by": user if isinstance(user, int) else None,
        "parent_prediction": None,
        "parent_annotation": None,
        "last_created_by": None,
        **extra,
    }


def task(task_id: int, data: dict, annotations: list, **extra) -> dict:
    for a in annotations:
        a["task"] = task_id
    return {
        "id": task_id,
        "annotations": annotations,
        "drafts": [],
        "predictions": [],
        "data": data,
        "meta": {},
        "created_at": "2024-05-01T08:00:00.000000Z",
        "updated_at": "2024-05-02T08:00:00.000000Z",
        "allow_skip": True,
        "inner_id": task_id,
        "total_annotations": len(annotations),
        "cancelled_annotations": sum(a["was_cancelled"] for a in annotations),
        "total_predictions": 0,
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "project": 7,
        "updated_by": None,
        "comment_authors": [],
        **extra,
    }


def choices(name: str, to_name: str, values: list[str]) -> dict:
    return {
        "id": f"c-{name}-{'-'.join(values)}",
        "from_name": name,
        "to_name": to_name,
        "type": "choices",
        "origin": "manual",
        "value": {"choices": values},
    }


def textarea(name: str, to_name: str, texts: list[str]) -> dict:
    return {
        "id": f"t-{name}",
        "from_name": name,
        "to_name": to_name,
        "type": "textarea",
        "origin": "manual",
        "value": {"text": texts},
    }


def span(text: str, part: str, labels: list[str], region_id: str, occurrence: int = 0) -> dict:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(part, start + 1)
    return {
        "id": region_id,
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "origin": "manual",
        "value": {"start": start, "end": start + len(part), "text": part, "labels": labels},
    }


def rect(
    region_id: str,
    x,
    y,
    w,
    h,
    labels: list[str],
    *,
    rotation=0,
    size=(640, 480),
    from_name="label",
    kind="rectanglelabels",
) -> dict:
    region = {
        "id": region_id,
        "from_name": from_name,
        "to_name": "image",
        "type": kind,
        "origin": "manual",
        "image_rotation": 0,
        "value": {"x": x, "y": y, "width": w, "height": h, "rotation": rotation, kind: labels},
    }
    if size:
        region["original_width"], region["original_height"] = size
    return region


def polygon(region_id: str, points: list, labels: list[str], size=(800, 600)) -> dict:
    return {
        "id": region_id,
        "from_name": "poly",
        "to_name": "image",
        "type": "polygonlabels",
        "original_width": size[0],
        "original_height": size[1],
        "image_rotation": 0,
        "value": {"points": points, "closed": True, "polygonlabels": labels},
    }


def keypoint(region_id: str, parent: str | None, x, y, labels: list[str], size=(640, 480)) -> dict:
    region = {
        "id": region_id,
        "from_name": "kp",
        "to_name": "image",
        "type": "keypointlabels",
        "original_width": size[0],
        "original_height": size[1],
        "image_rotation": 0,
        "value": {"x": x, "y": y, "width": 0.5, "keypointlabels": labels},
    }
    if parent:
        region["parentID"] = parent
    return region


# --------------------------------------------------------------------------------------------------------
# Three projects

TEXT_CLASSIFICATION = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="multiple">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
    <Choice value="Neutral"/>
  </Choices>
  <TextArea name="comment" toName="text" maxSubmissions="2"/>
</View>"""


def text_classification_tasks() -> list[dict]:
    return [
        # "comment" is both a task.data key and a control: CSV renames the data column to _data_comment.
        task(
            1,
            {
                "text": "I love this product — très bien! 😀",
                "comment": "imported note",
                "meta": {"source": "https://example.com/a/b", "scores": [1.5e-7, 2, None, True]},
            },
            [
                annotation(
                    11,
                    1,
                    "2024-06-01T10:00:00.000000Z",
                    [choices("sentiment", "text", ["Positive"]), textarea("comment", "text", ["great"])],
                ),
                annotation(
                    12,
                    2,
                    "2024-06-03T10:00:00.000000Z",
                    [
                        choices("sentiment", "text", ["Positive", "Neutral"]),
                        textarea("comment", "text", ["two", "texts/with slash"]),
                    ],
                    lead_time=12.25,
                ),
                annotation(13, 3, "2024-06-04T10:00:00.000000Z", [], cancelled=True),
            ],
            agreement=66.67,
        ),
        task(2, {"text": "Terrible support, never again", "comment": "x"}, []),
        task(
            3,
            {"text": "Only skipped", "comment": "y"},
            [annotation(31, 2, "2024-06-02T10:00:00.000000Z", [], cancelled=True)],
        ),
        task(
            4,
            {"text": "Empty result; user object"},
            [
                annotation(
                    41,
                    {"id": 5, "email": "ann@example.com"},
                    "2024-06-02T11:00:00.000000Z",
                    [],
                    history=[{"action": "submitted", "user": 5}],
                )
            ],
        ),
        task(
            5,
            {"text": "Stale control and ties", "comment": 42},
            [
                annotation(
                    51,
                    1,
                    "2024-06-05T10:00:00.000000Z",
                    [
                        {
                            "from_name": "old_control",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": ["Gone"]},
                        },
                        choices("sentiment", "text", ["Negative"]),
                    ],
                    lead_time=None,
                ),
                annotation(
                    52, 2, "2024-06-05T10:00:00.000000Z", [textarea("comment", "text", ["same time"])]
                ),
            ],
        ),
        task(
            6,
            {"text": 'He said "hi",\nthen left.\tTabbed', "comment": None},
            [
                annotation(
                    61,
                    7,
                    "2024-06-06T10:00:00.000000Z",
                    [textarea("comment", "text", ['quote " and comma, and\nnewline'])],
                )
            ],
        ),
    ]


NER = """
<View>
  <Labels name="label" toName="text">
    <Label value="PER" background="red"/>
    <Label value="ORG" background="darkorange"/>
    <Label value="LOC" background="orange"/>
    <Label value="MISC" background="green"/>
  </Labels>
  <Text name="text" value="$text" granularity="word"/>
  <Choices name="topic" toName="text">
    <Choice value="Business"/>
    <Choice value="Politics"/>
  </Choices>
</View>"""

_T1 = "Apple Inc. buys Beats for $3.88 billion, says Tim Cook."
_T2 = 'Jürgen Müller (CEO) said: "We can\'t wait" -- München/Berlin... 東京 too!'
_T3 = "Dr. Smith's gonna visit Paris, France on 12/03/2024; isn't it?"
_T4 = "No entities here at all"


def ner_tasks() -> list[dict]:
    return [
        task(
            1,
            {"text": _T1},
            [
                annotation(
                    101,
                    1,
                    "2024-06-01T10:00:00.000000Z",
                    [
                        span(_T1, "Beats", ["ORG"], "b"),
                        span(_T1, "Apple Inc.", ["ORG"], "a"),
                        span(_T1, "Tim Cook", ["PER"], "c"),
                        choices("topic", "text", ["Business"]),
                        {
                            "from_id": "a",
                            "to_id": "b",
                            "type": "relation",
                            "direction": "right",
                            "labels": [],
                        },
                    ],
                ),
                annotation(
                    102,
                    2,
                    "2024-06-02T10:00:00.000000Z",
                    [span(_T1, "Apple", ["ORG"], "d"), span(_T1, "$3.88 billion", ["MISC"], "e")],
                ),
                annotation(
                    103, 3, "2024-06-03T10:00:00.000000Z", [span(_T1, "Apple", ["ORG"], "f")], cancelled=True
                ),
            ],
        ),
        task(
            2,
            {"text": _T2},
            [
                annotation(
                    201,
                    1,
                    "2024-06-01T10:00:00.000000Z",
                    [
                        span(_T2, "Jürgen Müller", ["PER"], "g"),
                        span(_T2, "CEO", [], "h"),
                        span(_T2, "München", ["LOC"], "i"),
                        span(_T2, "Berlin", ["LOC"], "j"),
                        span(_T2, "東京", ["LOC"], "k"),
                    ],
                ),
            ],
        ),
        task(
            3,
            {"text": _T3},
            [
                annotation(
                    301,
                    2,
                    "2024-06-01T10:00:00.000000Z",
                    [
                        span(_T3, "Smith", ["PER"], "l"),
                        span(_T3, "Paris, France", ["LOC"], "m"),
                        span(_T3, "12/03/2024", ["MISC"], "n"),
                    ],
                ),
                annotation(302, 1, "2024-06-01T09:00:00.000000Z", [choices("topic", "text", ["Politics"])]),
            ],
        ),
        task(4, {"text": _T4}, []),
        task(
            5,
            {"text": "Skipped only"},
            [annotation(501, 1, "2024-06-01T10:00:00.000000Z", [], cancelled=True)],
        ),
    ]


BBOX = """
<View>
  <Image name="image" value="$image" zoom="true"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Airplane" background="green"/>
    <Label value="Car" background="blue"/>
  </RectangleLabels>
  <Choices name="quality" toName="image">
    <Choice value="Good"/>
    <Choice value="Blurry"/>
  </Choices>
</View>"""

_CAT = "https://example.com/images/cat%201.jpg?sig=a/b"
_STREET = "https://cdn.example.com/a/b/street.jpg"


def bbox_tasks() -> list[dict]:
    return [
        task(
            1,
            {"image": _CAT},
            [
                annotation(
                    11,
                    1,
                    "2024-06-02T10:00:00.000000Z",
                    [
                        rect("r1", 10, 20, 30.5, 40.25, ["Car"]),
                        rect("r2", 50, 5, 20, 10, ["Airplane"], rotation=30),
                    ],
                ),
                # The oldest annotation with results is what YOLO's label file ends with.
                annotation(
                    12,
                    2,
                    "2024-06-01T10:00:00.000000Z",
                    [
                        rect("r3", 1.5, 2.5, 3.5, 4.5, ["Car", "Airplane"]),
                        choices("quality", "image", ["Good"]),
                    ],
                ),
                annotation(
                    13, 3, "2024-06-03T10:00:00.000000Z", [rect("r4", 1, 1, 1, 1, ["Car"])], cancelled=True
                ),
            ],
        ),
        # A label missing from the config gets the next category id; a region without the image size is
        # left out of COCO.
        task(
            2,
            {"image": "s3://bucket/dir/dog.png"},
            [
                annotation(
                    21,
                    1,
                    "2024-06-01T10:00:00.000000Z",
                    [
                        # (After a sized region, an unsized one makes the SDK fail the whole export.)
                        rect("r6", 5, 5, 10, 10, ["Car"], size=None),
                        rect("r5", 0, 0, 100, 100, ["Truck"], size=(1024, 768)),
                    ],
                ),
            ],
        ),
        task(3, {"image": "/data/upload/3/abc-photo.jpg"}, []),
        task(
            4,
            {"image": "https://example.com/p/plane.jpeg"},
            [annotation(41, 1, "2024-06-04T10:00:00.000000Z", [choices("quality", "image", ["Blurry"])])],
        ),
        task(
            5,
            {"image": "https://example.com/p/plane.jpeg"},
            [annotation(51, 1, "2024-06-04T10:00:00.000000Z", [], cancelled=True)],
        ),
        task(
            6,
            {"image": _STREET},
            [
                annotation(
                    61,
                    2,
                    "2024-06-01T10:00:00.000000Z",
                    [
                        rect("r7", 12.3456789, 23.456789, 34.56789, 45.6789, ["Car"], size=(1920, 1080)),
                        rect("r8", 60, 60, 10, 10, ["Airplane"], size=(1920, 1080)),
                    ],
                ),
                # Empty result: creates the label file only if absent.
                annotation(62, 1, "2024-06-02T10:00:00.000000Z", []),
            ],
        ),
        # Same image as task 6, with regions: this content wins.
        task(
            7,
            {"image": _STREET},
            [
                annotation(
                    71,
                    1,
                    "2024-06-01T10:00:00.000000Z",
                    [
                        rect(
                            "r9",
                            33.3333,
                            44.4444,
                            11.1111,
                            22.2222,
                            ["Airplane"],
                            rotation=-15.5,
                            size=(1920, 1080),
                        )
                    ],
                ),
            ],
        ),
        task(
            8,
            {"image": "gs://b/road.webp"},
            [
                annotation(
                    81,
                    4,
                    "2024-06-01T10:00:00.000000Z",
                    [rect("r10", 20, 30, 40, 20, ["Car"], rotation=15, size=(500, 375))],
                ),
                annotation(
                    82,
                    1,
                    "2024-06-02T10:00:00.000000Z",
                    [rect("r11", 25, 35, 45, 25, ["Airplane"], rotation=345, size=(500, 375))],
                ),
            ],
        ),
        task(
            9,
            {"image": "/data/local-files/?d=dir/sub/photo.tiff"},
            [annotation(91, 1, "2024-06-01T10:00:00.000000Z", [rect("r12", 1e-7, 0.1, 50, 50, ["Car"])])],
        ),
        # Same image as task 9, no rectangle: COCO adds no image for it, YOLO still rewrites its file (empty).
        task(
            10,
            {"image": "/data/local-files/?d=dir/sub/photo.tiff"},
            [annotation(101, 1, "2024-06-04T10:00:00.000000Z", [choices("quality", "image", ["Blurry"])])],
        ),
    ]


# --------------------------------------------------------------------------------------------------------
# Running both sides


def sdk_output(config: str | dict, tasks: list[dict], export_type: str, tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "export.json"
    source.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / f"sdk-{export_type}"
    converter = Converter(
        config=config,
        project_dir=str(tmp_path),
        upload_dir=str(tmp_path / "upload"),
        download_resources=False,
    )
    converter.convert(str(source), str(out), export_type, is_dir=False)
    return out


def our_output(xml: str, tasks: list[dict], export_type: str) -> tuple[ExportFile, bytes]:
    before = copy.deepcopy(tasks)
    out = io.BytesIO()
    exported = write_export(export_type, lambda: iter(tasks), parse_label_config(xml), out)
    assert tasks == before, "the writer must not change the tasks"
    return exported, out.getvalue()


def single_file(directory: Path) -> bytes:
    (name,) = os.listdir(directory)
    return (directory / name).read_bytes()


def directory_tree(root: Path) -> dict[str, bytes]:
    tree = {}
    for folder, dirs, files in os.walk(root):
        relative = os.path.relpath(folder, root)
        prefix = "" if relative == "." else relative + "/"
        for d in dirs:
            tree[f"{prefix}{d}/"] = b""
        for f in files:
            tree[prefix + f] = Path(folder, f).read_bytes()
    return tree


def zip_tree(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


PROJECTS = {
    "text_classification": (TEXT_CLASSIFICATION, text_classification_tasks),
    "ner": (NER, ner_tasks),
    "bbox": (BBOX, bbox_tasks),
}


# --------------------------------------------------------------------------------------------------------
# Tabular formats and CONLL: byte for byte


@pytest.mark.parametrize("project", PROJECTS)
def test_json_min_matches_sdk(project, tmp_path):
    xml, make_tasks = PROJECTS[project]
    tasks = make_tasks()
    exported, ours = our_output(xml, tasks, "JSON_MIN")
    expected = single_file(sdk_output(xml, tasks, "JSON_MIN", tmp_path))
    assert exported == ExportFile("application/.json", "json")
    assert json.loads(ours) == json.loads(expected)
    assert [list(r) for r in json.loads(ours)] == [list(r) for r in json.loads(expected)]  # key order
    assert ours == expected


@pytest.mark.parametrize("project", PROJECTS)
@pytest.mark.parametrize("export_type", ["CSV", "TSV"])
def test_csv_and_tsv_match_sdk(project, export_type, tmp_path):
    xml, make_tasks = PROJECTS[project]
    tasks = make_tasks()
    exported, ours = our_output(xml, tasks, export_type)
    expected = single_file(sdk_output(xml, tasks, export_type, tmp_path))
    # Label Studio names the TSV download .csv too: the SDK writes it to result.csv.
    assert exported == ExportFile("application/.csv", "csv")
    delimiter = "," if export_type == "CSV" else "\t"

    def parse(data: bytes) -> list[list[str]]:
        return list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=delimiter))

    assert parse(ours) == parse(expected)
    assert ours == expected


def test_csv_renames_a_data_key_that_collides_with_a_control():
    _, ours = our_output(TEXT_CLASSIFICATION, text_classification_tasks(), "CSV")
    header = ours.decode().splitlines()[0]
    assert header == (
        '"_data_comment","agreement","annotation_id","annotator","comment","created_at",'
        '"history","id","lead_time","meta","sentiment","text","updated_at"'
    )


def test_conll_matches_sdk(tmp_path):
    tasks = ner_tasks()
    exported, ours = our_output(NER, tasks, "CONLL2003")
    expected = single_file(sdk_output(NER, tasks, "CONLL2003", tmp_path))
    assert exported == ExportFile("application/.conll", "conll")
    assert ours == expected
    assert "Apple -X- _ B-ORG\nInc. -X- _ I-ORG\n" in ours.decode()


def test_conll_tokenization_matches_sdk_on_random_text():
    rng = random.Random(7)
    alphabet = [
        *"abcXYZ  \t\n.,;:!?'\"`()[]{}<>-/$%&@#0123",
        "can",
        "not",
        "n't",
        "'s",
        "...",
        "--",
        "''",
        "gonna",
        "é",
        "東",
    ]
    for _ in range(1500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        spans = []
        for _ in range(rng.randint(0, 3)):
            start = rng.randint(0, max(len(text) - 1, 0))
            end = rng.randint(start, len(text))
            spans.append({"start": start, "end": end, "labels": rng.choice([["PER"], ["LOC"], []])})
        try:
            expected = create_tokens_and_tags(text, copy.deepcopy(spans) or None)
        except (ValueError, RuntimeError):
            with pytest.raises(ValueError, match="substring not found"):
                tokens_and_tags(text, spans or None)
            continue
        assert tokens_and_tags(text, spans or None) == expected, text


# --------------------------------------------------------------------------------------------------------
# COCO and YOLO: zips, compared entry by entry with the SDK's output directory


def assert_close(ours, expected, where: str = "$") -> None:
    """Equal JSON, except floats, compared to 1e-9 relative: their last bits follow the CPU's float path."""
    if isinstance(expected, float) or isinstance(ours, float):
        assert ours == pytest.approx(expected, rel=1e-9, abs=1e-12), where
    elif isinstance(expected, dict):
        assert isinstance(ours, dict) and list(ours) == list(expected), where
        for key in expected:
            assert_close(ours[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(ours, list) and len(ours) == len(expected), where
        for i, (a, b) in enumerate(zip(ours, expected, strict=True)):
            assert_close(a, b, f"{where}[{i}]")
    else:
        assert ours == expected, where


def assert_lines_close(ours: bytes, expected: bytes, name: str) -> None:
    """YOLO label files: the same lines and words, numbers compared as assert_close does."""
    ours_lines, expected_lines = ours.decode().splitlines(), expected.decode().splitlines()
    assert len(ours_lines) == len(expected_lines), name
    for a, b in zip(ours_lines, expected_lines, strict=True):
        ours_words, expected_words = a.split(), b.split()
        assert len(ours_words) == len(expected_words), (name, a, b)
        for x, y in zip(ours_words, expected_words, strict=True):
            if re.fullmatch(r"-?\d+\.\d*(e-?\d+)?", y):
                assert float(x) == pytest.approx(float(y), rel=1e-9, abs=1e-12), (name, a, b)
            else:
                assert x == y, (name, a, b)


def assert_coco_matches(xml: str, tasks: list[dict], tmp_path: Path) -> dict:
    exported, ours = our_output(xml, tasks, "COCO")
    expected_dir = sdk_output(xml, tasks, "COCO", tmp_path)
    assert exported == ExportFile("application/zip", "zip")
    ours_tree, expected_tree = zip_tree(ours), directory_tree(expected_dir)
    assert sorted(ours_tree) == sorted(expected_tree) == ["images/", "result.json"]
    ours_json, expected_json = json.loads(ours_tree["result.json"]), json.loads(expected_tree["result.json"])
    # The only time-dependent field.
    assert ours_json["info"].pop("date_created") and expected_json["info"].pop("date_created")
    assert_close(ours_json, expected_json)
    assert list(ours_json) == list(expected_json) == ["images", "categories", "annotations", "info"]
    return ours_json


def assert_yolo_matches(xml: str, tasks: list[dict], tmp_path: Path, export_type: str = "YOLO") -> dict:
    exported, ours = our_output(xml, tasks, export_type)
    expected_dir = sdk_output(xml, tasks, export_type, tmp_path)
    assert exported == ExportFile("application/zip", "zip")
    ours_tree, expected_tree = zip_tree(ours), directory_tree(expected_dir)
    assert sorted(ours_tree) == sorted(expected_tree)
    for name in expected_tree:
        if name.endswith(".txt") and name.startswith("labels/"):
            assert_lines_close(ours_tree[name], expected_tree[name], name)
        else:
            assert ours_tree[name] == expected_tree[name], name
    return ours_tree


def test_coco_matches_sdk(tmp_path):
    result = assert_coco_matches(BBOX, bbox_tasks(), tmp_path)
    names = [c["name"] for c in result["categories"]]
    assert names == ["Airplane", "Blurry", "Car", "Good", "Truck"]  # Choices too, as the SDK does
    assert {i["file_name"] for i in result["images"]} >= {
        "s3://bucket/dir/dog.png",
        "/data/upload/3/abc-photo.jpg",
    }


def test_yolo_matches_sdk(tmp_path):
    tree = assert_yolo_matches(BBOX, bbox_tasks(), tmp_path)
    assert {
        "images/",
        "labels/",
        "classes.txt",
        "notes.json",
        "labels/dog.txt",
        "labels/abc-photo.txt",
    } <= set(tree)


def test_yolo_obb_matches_sdk(tmp_path):
    assert_yolo_matches(BBOX, bbox_tasks(), tmp_path, "YOLO_OBB")


POLYGONS = """
<View>
  <Image name="image" value="$image"/>
  <PolygonLabels name="poly" toName="image">
    <Label value="Road"/>
    <Label value="Sky" category="7"/>
  </PolygonLabels>
</View>"""


def polygon_tasks(points_per_polygon: int) -> list[dict]:
    rng = random.Random(points_per_polygon)
    shape = [
        [round(rng.uniform(0, 100), 4), round(rng.uniform(0, 100), 4)] for _ in range(points_per_polygon)
    ]
    return [
        task(
            1,
            {"image": "https://example.com/road.png"},
            [
                annotation(
                    1,
                    1,
                    "2024-06-01T10:00:00.000000Z",
                    [
                        polygon("p1", [[10, 10], [50.5, 12.25], [45, 60], [12, 55.5], [5, 30]], ["Road"]),
                        polygon("p2", shape, ["Sky"]),
                        polygon("p3", [[1, 1], [2, 2], [1, 3]], ["Cloud"]),
                    ],
                ),
                annotation(
                    2,
                    2,
                    "2024-06-02T10:00:00.000000Z",
                    [polygon("p4", shape[:3], ["Road"], size=(1000, 500))],
                ),
            ],
        ),
        task(2, {"image": "https://example.com/sky.png"}, []),
    ]


def test_polygons_match_sdk(tmp_path):
    assert_coco_matches(POLYGONS, polygon_tasks(8), tmp_path / "small")
    assert_yolo_matches(POLYGONS, polygon_tasks(8), tmp_path / "small")
    # With 16+ points numpy's BLAS dot sums in blocks: the area may differ in the last bits.
    assert_coco_matches(POLYGONS, polygon_tasks(40), tmp_path / "large")


KEYPOINTS = """
<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Person"/>
    <Label value="Dog"/>
  </RectangleLabels>
  <KeyPointLabels name="kp" toName="image">
    <Label value="nose" model_index="0"/>
    <Label value="left_eye" model_index="1"/>
    <Label value="tail" model_index="2"/>
  </KeyPointLabels>
</View>"""


def keypoint_tasks() -> list[dict]:
    return [
        task(
            1,
            {"image": "https://example.com/park.jpg"},
            [
                annotation(
                    1,
                    1,
                    "2024-06-01T10:00:00.000000Z",
                    [
                        rect("person", 10, 10, 30, 60, ["Person"]),
                        rect("dog", 50, 50, 20, 20, ["Dog"]),
                        keypoint("k1", "person", 20.5, 15.25, ["nose"]),
                        keypoint("k2", "person", 22, 14, ["left_eye"]),
                        keypoint("k3", "dog", 66.6, 60.1, ["tail"]),
                        keypoint("k4", None, 1, 1, ["nose"]),
                    ],
                ),
            ],
        ),
        task(2, {"image": "https://example.com/empty.jpg"}, []),
    ]


def test_keypoints_match_sdk(tmp_path):
    assert_coco_matches(KEYPOINTS, keypoint_tasks(), tmp_path / "coco")
    assert_yolo_matches(KEYPOINTS, keypoint_tasks(), tmp_path / "yolo")


def test_zip_formats_write_to_a_stream_that_cannot_seek():
    class WriteOnly:
        def __init__(self):
            self.chunks = []

        def write(self, data):
            self.chunks.append(bytes(data))
            return len(data)

        def flush(self):
            pass

    config = parse_label_config(BBOX)
    for export_type in ("COCO", "YOLO"):
        seekable, stream = io.BytesIO(), WriteOnly()
        write_export(export_type, lambda: iter(bbox_tasks()), config, seekable)
        write_export(export_type, lambda: iter(bbox_tasks()), config, stream)
        streamed = zip_tree(b"".join(stream.chunks))
        plain = zip_tree(seekable.getvalue())
        if export_type == "COCO":
            for tree in (streamed, plain):
                tree["result.json"] = json.loads(tree["result.json"])
                tree["result.json"]["info"].pop("date_created")
        assert streamed == plain


# --------------------------------------------------------------------------------------------------------
# The catalogue

FORMAT_CONFIGS = {
    "text_classification": TEXT_CLASSIFICATION,
    "ner": NER,
    "bbox": BBOX,
    "polygon": POLYGONS,
    "keypoints_only": """<View><Image name="image" value="$image"/>
        <KeyPointLabels name="kp" toName="image"><Label value="nose"/></KeyPointLabels></View>""",
    "two_data_keys": """<View><Text name="a" value="$first"/><Text name="b" value="$second"/>
        <Choices name="same" toName="a,b"><Choice value="Yes"/><Choice value="No"/></Choices></View>""",
    "keypoints_and_rectangles": KEYPOINTS,
    "rectangle_plus_labels": """<View><Image name="image" value="$image"/>
        <Rectangle name="box" toName="image"/>
        <Labels name="lbl" toName="image"><Label value="A"/></Labels></View>""",
    "brush": """<View><Image name="image" value="$image"/>
        <BrushLabels name="brush" toName="image"><Label value="A"/></BrushLabels></View>""",
    "audio_transcription": """<View><Audio name="audio" value="$audio"/>
        <TextArea name="transcription" toName="audio"/></View>""",
    "text_from_url": """<View><Text name="text" value="$url" valueType="url"/>
        <Labels name="label" toName="text"><Label value="A"/></Labels></View>""",
    "video_timeline": """<View><Video name="video" value="$video"/>
        <TimelineLabels name="tl" toName="video"><Label value="A"/></TimelineLabels></View>""",
    "two_data_keys_textarea": """<View><Text name="a" value="$first"/><Text name="b" value="$second"/>
        <TextArea name="note" toName="a,b"/></View>""",
}


def sdk_catalogue(config) -> list[dict]:
    """Label Studio's `DataExport.get_export_formats`."""
    converter = Converter(config=config, project_dir=None)
    supported = set(converter.supported_formats)
    formats = []
    for fmt, info in converter.all_formats().items():
        info = copy.deepcopy(info)
        info["name"] = fmt.name
        if fmt.name not in supported:
            info["disabled"] = True
        formats.append(info)
    return sorted(formats, key=lambda f: f.get("disabled", False))


@pytest.mark.parametrize("name", FORMAT_CONFIGS)
def test_formats_for_config_match_label_studio(name):
    config = parse_label_config(FORMAT_CONFIGS[name])
    ours = formats_for_config(config)
    # Label Studio hands the converter the project's parsed_label_config ...
    assert ours == sdk_catalogue(config.parsed)
    assert [list(f) for f in ours] == [list(f) for f in sdk_catalogue(config.parsed)]
    # ... and the SDK's own XML parsing agrees, except that it does not keep valueType (so it would offer
    # CONLL2003 for text read from a URL, which its converter cannot read).
    if name != "text_from_url":
        assert ours == sdk_catalogue(FORMAT_CONFIGS[name])


def test_formats_for_config_matches_the_captured_catalogue():
    config = parse_label_config("""<View><Text name="text" value="$text"/><Choices name="sentiment"
        toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>""")
    captured = json.loads((SAMPLES / "export_formats.json").read_text())
    assert json.dumps(formats_for_config(config)) == json.dumps(captured)
    assert [f["name"] for f in FORMATS] == [f.name for f in Converter._FORMAT_INFO]


def test_enabled_formats_by_project():
    def enabled(xml):
        return [f["name"] for f in formats_for_config(parse_label_config(xml)) if not f.get("disabled")]

    assert enabled(TEXT_CLASSIFICATION) == ["JSON", "JSON_MIN", "CSV", "TSV", "DOCLANG"]
    assert enabled(NER) == ["JSON", "JSON_MIN", "CSV", "TSV", "CONLL2003"]
    assert enabled(BBOX) == [
        "JSON",
        "JSON_MIN",
        "CSV",
        "TSV",
        "COCO",
        "COCO_WITH_IMAGES",
        "VOC",
        "YOLO",
        "YOLO_WITH_IMAGES",
        "YOLO_OBB",
        "YOLO_OBB_WITH_IMAGES",
    ]


# --------------------------------------------------------------------------------------------------------
# Errors


def test_unknown_unavailable_and_unsupported_types_are_value_errors():
    config = parse_label_config(TEXT_CLASSIFICATION)
    out = io.BytesIO()
    with pytest.raises(ValueError, match="Unknown export type 'XML'"):
        write_export("XML", lambda: iter([]), config, out)
    with pytest.raises(ValueError, match="VOC is not available"):
        write_export("VOC", lambda: iter([]), parse_label_config(BBOX), out)
    with pytest.raises(ValueError, match="CONLL2003 does not fit"):
        write_export("CONLL2003", lambda: iter([]), config, out)
    with pytest.raises(ValueError, match="COCO does not fit"):
        write_export("COCO", lambda: iter([]), config, out)
    assert out.getvalue() == b""


def test_export_type_is_case_insensitive():
    out = io.BytesIO()
    assert (
        write_export("json_min", lambda: iter([]), parse_label_config(TEXT_CLASSIFICATION), out).extension
        == "json"
    )
    assert out.getvalue() == b"[\n\n]"


def test_json_is_label_studio_serialization():
    tasks = text_classification_tasks()
    _, ours = our_output(TEXT_CLASSIFICATION, tasks, "JSON")
    assert ours == ujson.dumps(tasks, ensure_ascii=False).encode()


def test_json_text_matches_ujson():
    rng = random.Random(3)
    atoms = [
        None,
        True,
        False,
        0,
        -1,
        2**62,
        1.5,
        -0.0,
        1e-7,
        2.5e-10,
        1e16,
        1e300,
        0.1 + 0.2,
        123456.789,
        "",
        "a/b",
        'q"uote\\',
        "é東😀",
        "\u2028\x00\x1f\x7f",
        "</script>",
    ]

    def value(depth):
        if depth > 3 or rng.random() < 0.4:
            return rng.choice(atoms)
        if rng.random() < 0.5:
            return [value(depth + 1) for _ in range(rng.randint(0, 4))]
        return {
            rng.choice(["k", "k/2", "é", "x y"]) + str(i): value(depth + 1) for i in range(rng.randint(0, 4))
        }

    for _ in range(500):
        v = value(0)
        for indent in (None, 2):
            for ensure_ascii in (False, True):
                kwargs = {"ensure_ascii": ensure_ascii} | ({"indent": indent} if indent else {})
                assert jsontext.dumps(v, indent=indent, ensure_ascii=ensure_ascii) == ujson.dumps(v, **kwargs)


# --------------------------------------------------------------------------------------------------------
# Streaming


class CountingSink:
    """Discards what it is given: the output must not count towards the writer's memory."""

    def __init__(self):
        self.size = 0

    def write(self, data):
        self.size += len(data)
        return len(data)


def tiny_tasks(count: int):
    for i in range(count):
        yield {
            "id": i,
            "data": {"text": f"task number {i}", "extra": i % 7},
            "annotations": [
                {
                    "id": i,
                    "completed_by": 1,
                    "created_at": "2024-01-01T00:00:00Z",
                    "updated_at": "2024-01-01T00:00:00Z",
                    "lead_time": 1.0,
                    "was_cancelled": False,
                    "result": [
                        {
                            "from_name": "sentiment",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": ["Positive"]},
                        }
                    ],
                }
            ],
        }


@pytest.mark.parametrize("export_type", ["JSON_MIN", "CSV"])
def test_writers_consume_tasks_lazily(export_type):
    count = 20_000
    config = parse_label_config(TEXT_CLASSIFICATION)

    tracemalloc.start()
    held = list(tiny_tasks(count))
    holding_cost = tracemalloc.get_traced_memory()[0]
    del held
    tracemalloc.stop()

    passes = []

    def tasks():
        passes.append(1)
        return tiny_tasks(count)

    sink = CountingSink()
    tracemalloc.start()
    write_export(export_type, tasks, config, sink)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert sink.size > 1_000_000
    assert len(passes) == (1 if export_type == "JSON_MIN" else 2)
    assert peak < holding_cost / 20, (peak, holding_cost)


REPEATER = """
<View>
  <Repeater on="$pages" indexFlag="{{idx}}">
    <Image name="page_{{idx}}" value="$pages[{{idx}}].url"/>
    <RectangleLabels name="labels_{{idx}}" toName="page_{{idx}}">
      <Label value="Title"/>
    </RectangleLabels>
  </Repeater>
</View>"""


@pytest.mark.parametrize("export_type", ["JSON_MIN", "CSV"])
def test_repeater_results_match_label_studio(export_type, tmp_path):
    # Repeater controls are found through the `regex` only Label Studio's parsed_label_config carries,
    # which is what Label Studio hands the converter.
    tasks = [
        task(
            1,
            {"pages": [{"url": "https://example.com/1.png"}, {"url": "https://example.com/2.png"}]},
            [
                annotation(
                    1,
                    1,
                    "2024-06-01T10:00:00.000000Z",
                    [
                        rect("a", 1, 2, 3, 4, ["Title"], from_name="labels_0") | {"to_name": "page_0"},
                        rect("b", 5, 6, 7, 8, ["Title"], from_name="labels_1") | {"to_name": "page_1"},
                        rect("c", 5, 6, 7, 8, ["Title"], from_name="other_1") | {"to_name": "page_1"},
                    ],
                )
            ],
        )
    ]
    _, ours = our_output(REPEATER, tasks, export_type)
    expected = single_file(sdk_output(parse_label_config(REPEATER).parsed, tasks, export_type, tmp_path))
    assert ours == expected
    assert b"labels_1" in ours and b"other_1" not in ours
