"""Exports through the real app: every format, the formats catalogue, majority vote and S3 snapshots."""

from __future__ import annotations

import csv
import io
import json
import urllib.parse

from tests.api.test_label_stream import labeling_project, submit
from tests.api.test_projects import create_project
from tests.api.test_tasks import CHOICE, import_

NEGATIVE = [{**CHOICE[0], "value": {"choices": ["Negative"]}}]
NER_CONFIG = """<View><Labels name="label" toName="text"><Label value="ORG"/><Label value="PER"/></Labels>
<Text name="text" value="$text"/></View>"""


def run_jobs_inline(monkeypatch):
    from functions.services import jobs

    monkeypatch.setattr(jobs, "submit", jobs.run)


def test_formats_follow_the_labeling_config(api):
    text = create_project(api)["id"]
    ner = create_project(api, label_config=NER_CONFIG)["id"]
    enabled = {
        f["name"] for f in api.get(f"/api/projects/{text}/export/formats").json() if not f.get("disabled")
    }
    assert (
        {"JSON", "JSON_MIN", "CSV", "TSV"} <= enabled and "CONLL2003" not in enabled and "COCO" not in enabled
    )
    ner_formats = api.get(f"/api/projects/{ner}/export/formats").json()
    assert "CONLL2003" in {f["name"] for f in ner_formats if not f.get("disabled")}
    assert ner_formats[-1].get("disabled") is True  # disabled ones come last, as in Label Studio


BBOX_CONFIG = """<View><Image name="image" value="$image"/>
<RectangleLabels name="box" toName="image"><Label value="Car"/></RectangleLabels></View>"""


def test_the_formats_listed_as_available_are_exactly_those_the_export_produces(api):
    """A format offered is one the export answers; one it would refuse (the media bundles, VOC, a config
    that does not fit) is disabled with the reason, as the export dialog shows it."""
    box = [
        {
            "from_name": "box",
            "to_name": "image",
            "type": "rectanglelabels",
            "original_width": 100,
            "original_height": 80,
            "image_rotation": 0,
            "value": {"x": 10, "y": 10, "width": 20, "height": 30, "rotation": 0, "rectanglelabels": ["Car"]},
        }
    ]
    for config, data, result in (
        (None, {"text": "good"}, CHOICE),
        (NER_CONFIG, {"text": "Acme hires Bo"}, None),
        (BBOX_CONFIG, {"image": "https://example.com/a.jpg"}, box),
    ):
        pid = create_project(api, **({"label_config": config} if config else {}))["id"]
        [task_id] = import_(api, pid, [data])["task_ids"]
        if result:
            assert api.post(f"/api/tasks/{task_id}/annotations", json={"result": result}).status_code == 201
        formats = api.get(f"/api/projects/{pid}/export/formats").json()
        for info in formats:
            answer = api.get(f"/api/projects/{pid}/export", params={"exportType": info["name"]})
            if info.get("disabled"):
                assert answer.status_code == 400, (config, info["name"])
                assert info["disabled_reason"], info
            else:
                assert answer.status_code == 200, (config, info["name"], answer.text)
                assert "disabled_reason" not in info
        names = {f["name"]: f for f in formats}
        assert names["COCO_WITH_IMAGES"]["disabled"] and names["VOC"]["disabled"]
    assert "media" in names["YOLO_WITH_IMAGES"]["disabled_reason"]
    assert not names["COCO"].get("disabled") and not names["YOLO"].get("disabled")


def test_csv_and_json_min_exports_stream_one_row_per_annotation(api):
    pid = create_project(api)["id"]
    ids = import_(api, pid, [{"text": "a"}, {"text": "b"}])["task_ids"]
    api.post(f"/api/tasks/{ids[0]}/annotations", json={"result": CHOICE, "lead_time": 2.0})
    response = api.get(
        f"/api/projects/{pid}/export", params={"exportType": "CSV", "download_all_tasks": "true"}
    )
    assert response.status_code == 200 and 'filename="project-' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["text"], r["sentiment"]) for r in rows] == [("a", "Positive"), ("b", "")]
    minimal = api.get(f"/api/projects/{pid}/export?exportType=JSON_MIN").json()
    assert minimal == [{**minimal[0], "text": "a", "id": ids[0], "sentiment": "Positive", "lead_time": 2.0}]


def test_a_format_the_config_does_not_support_is_a_400_naming_the_parameter(api):
    pid = create_project(api)["id"]
    response = api.get(f"/api/projects/{pid}/export", params={"exportType": "CONLL2003"})
    assert response.status_code == 400 and "exportType" in response.json()["validation_errors"]


def test_majority_vote_export_writes_one_consensus_per_task(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 1, annotators=("a", "b", "c"), maximum_annotations=3)
    submit(c["a"], ids[0])
    submit(c["b"], ids[0])
    submit(c["c"], ids[0], result=NEGATIVE)
    exported = api.get(
        f"/api/projects/{pid}/export", params={"exportType": "JSON", "majority_vote": "1"}
    ).json()
    [annotation] = exported[0]["annotations"]
    assert [r["value"] for r in annotation["result"]] == [{"choices": ["Positive"]}]
    assert annotation["majority_of"] == 3
    rows = api.get(
        f"/api/projects/{pid}/export", params={"exportType": "JSON_MIN", "majority_vote": "1"}
    ).json()
    assert [r["sentiment"] for r in rows] == ["Positive"]


def test_snapshot_is_built_into_s3_converted_and_downloaded_by_presigned_url(api, monkeypatch):
    from tests import files_bucket

    run_jobs_inline(monkeypatch)
    pid = create_project(api)["id"]
    ids = import_(api, pid, [{"text": "a"}, {"text": "b"}])["task_ids"]
    api.post(f"/api/tasks/{ids[1]}/annotations", json={"result": CHOICE})
    created = api.post(f"/api/projects/{pid}/exports", json={"title": "weekly"})
    assert created.status_code == 201
    snapshot = api.get(f"/api/projects/{pid}/exports/{created.json()['id']}").json()
    assert (
        snapshot["status"] == "completed" and snapshot["counters"] == {"task_number": 2} and snapshot["md5"]
    )
    assert [s["id"] for s in api.get(f"/api/projects/{pid}/exports").json()] == [snapshot["id"]]

    def fetch(export_type):
        response = api.get(
            f"/api/projects/{pid}/exports/{snapshot['id']}/download",
            params={"exportType": export_type},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        url = urllib.parse.urlparse(response.headers["location"])
        assert "Signature=" in url.query or "X-Amz-Signature=" in url.query or "signature=" in url.query
        return files_bucket.fetch(api, response.headers["location"])

    assert [t["id"] for t in json.loads(fetch("JSON"))] == ids
    early = api.get(f"/api/projects/{pid}/exports/{snapshot['id']}/download", params={"exportType": "CSV"})
    assert early.status_code == 400 and "exportType" in early.json()["validation_errors"]
    converted = api.post(f"/api/projects/{pid}/exports/{snapshot['id']}/convert", json={"export_type": "CSV"})
    assert converted.status_code == 200
    status = api.get(f"/api/projects/{pid}/exports/{snapshot['id']}").json()["converted_formats"]
    assert status == [{"export_type": "CSV", "status": "completed"}]
    rows = list(csv.DictReader(io.StringIO(fetch("CSV").decode())))
    assert [r["sentiment"] for r in rows] == ["", "Positive"]
    refused = api.post(f"/api/projects/{pid}/exports/{snapshot['id']}/convert", json={"export_type": "COCO"})
    assert refused.status_code == 400 and "export_type" in refused.json()["validation_errors"]

    assert api.delete(f"/api/projects/{pid}/exports/{snapshot['id']}").status_code == 204
    assert api.get(f"/api/projects/{pid}/exports/{snapshot['id']}").status_code == 404
    assert files_bucket.keys_under(f"exports/{pid}/") == []
