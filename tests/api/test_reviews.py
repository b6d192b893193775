"""Annotation changes with optimistic concurrency, and reviewers accepting or rejecting annotations."""

from __future__ import annotations

from tests.api.test_label_stream import labeling_project, submit
from tests.api.test_tasks import CHOICE

NEGATIVE = [{**CHOICE[0], "value": {"choices": ["Negative"]}}]


def test_a_stale_annotation_update_is_a_conflict_and_changes_nothing(api, make_user):
    _, ids, c = labeling_project(api, make_user, 1, annotators=("a",))
    annotation = submit(c["a"], ids[0], lead_time=4.5, ground_truth=False)
    assert annotation["version"] == 0 and annotation["lead_time"] == 4.5
    first = c["a"].patch(f"/api/annotations/{annotation['id']}", json={"result": NEGATIVE, "version": 0})
    assert first.status_code == 200 and first.json()["version"] == 1
    stale = c["a"].patch(f"/api/annotations/{annotation['id']}", json={"result": CHOICE, "version": 0})
    assert stale.status_code == 409
    assert api.get(f"/api/annotations/{annotation['id']}").json()["result"] == NEGATIVE
    bad = c["a"].patch(f"/api/annotations/{annotation['id']}", json={"version": "latest"})
    assert bad.status_code == 400 and "version" in bad.json()["validation_errors"]


def test_ground_truth_and_completed_by_are_kept(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 1, annotators=("a",))
    annotation = submit(c["a"], ids[0], ground_truth=True)
    me = c["a"].get("/api/current-user/whoami").json()
    assert annotation["completed_by"] == me["id"] and annotation["ground_truth"] is True
    assert api.get(f"/api/projects/{pid}").json()["ground_truth_number"] == 1


def test_reviewers_accept_and_reject_annotators_cannot(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 1, annotators=("a",))
    annotation = submit(c["a"], ids[0])
    reviewer, as_reviewer = make_user("r@example.com", "reviewer")
    api.post(f"/api/projects/{pid}/members", json={"user": reviewer["id"]})

    refused = c["a"].post("/api/annotation-reviews", json={"annotation": annotation["id"], "accepted": True})
    assert refused.status_code == 403
    missing = as_reviewer.post("/api/annotation-reviews", json={"annotation": annotation["id"]})
    assert missing.status_code == 400 and "accepted" in missing.json()["validation_errors"]

    rejected = as_reviewer.post(
        "/api/annotation-reviews/",
        json={"annotation": annotation["id"], "accepted": False, "comment": "wrong"},
    )
    assert rejected.status_code == 201
    assert rejected.json()["accepted"] is False and rejected.json()["created_by"] == reviewer["id"]
    stored = api.get(f"/api/annotations/{annotation['id']}").json()
    assert stored["review_status"] == "rejected" and stored["reviewed_by"] == reviewer["id"]
    listed = as_reviewer.get(f"/api/annotation-reviews?annotation={annotation['id']}").json()
    assert [r["comment"] for r in listed] == ["wrong"]


def test_outsiders_cannot_review(api, make_user):
    _, ids, c = labeling_project(api, make_user, 1, annotators=("a",))
    annotation = submit(c["a"], ids[0])
    _, outsider = make_user("o@example.com", "reviewer")
    response = outsider.post(
        "/api/annotation-reviews", json={"annotation": annotation["id"], "accepted": True}
    )
    assert response.status_code == 404
