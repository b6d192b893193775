"""Requests are checked at the edge by their models: a wrong type is a 400 in Label Studio's envelope,
naming the field (dotted inside lists and objects), and what clients send loosely (flags, empty query
parameters, fields Label Studio has and labelstack ignores) still works."""

from __future__ import annotations

import pytest

from tests.api.test_projects import TEXT_CONFIG, create_project
from tests.api.test_tasks import import_

CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]


def invalid_fields(response) -> set[str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["detail"] == "Validation error" and body["status_code"] == 400
    return set(body["validation_errors"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("maximum_annotations", "AAA"),
        ("maximum_annotations", "3"),
        ("maximum_annotations", True),
        ("maximum_annotations", 0),
        ("maximum_annotations", 2**63),
        ("title", 5),
        ("show_skip_button", "maybe"),  # DRF reads "yes", "true", 1 as true
        ("sampling", "Random sampling"),
        ("control_weights", None),
    ],
)
def test_a_project_setting_of_the_wrong_type_is_a_400_naming_it(api, field, value):
    pid = create_project(api)["id"]
    assert invalid_fields(api.patch(f"/api/projects/{pid}", json={field: value})) == {field}
    assert invalid_fields(api.post("/api/projects", json={"label_config": TEXT_CONFIG, field: value})) == {
        field
    }


def test_unknown_project_fields_are_accepted_and_ignored(api):
    pid = create_project(api)["id"]
    response = api.patch(f"/api/projects/{pid}", json={"title": "renamed", "workspace": 3, "pinned_at": None})
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "renamed" and "workspace" not in response.json()


def test_nested_fields_are_named_with_dots_and_union_alternatives_are_not(api):
    pid = create_project(api)["id"]
    [task_id] = import_(api, pid, [{"text": "a"}])["task_ids"]
    fields = invalid_fields(api.post("/api/predictions", json={"task": task_id, "result": [1]}))
    assert fields == {"result", "result.0"}  # not a list of regions, nor any other shape a result takes
    fields = invalid_fields(api.post(f"/api/tasks/{task_id}/annotations", json={"result": [{"a": 1}, 2]}))
    assert fields == {"result.1"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"score": "high"}, "score"),
        ({"task": "1"}, "task"),
        ({"task": True}, "task"),
    ],
)
def test_a_prediction_of_the_wrong_type_is_a_400(api, body, field):
    pid = create_project(api)["id"]
    [task_id] = import_(api, pid, [{"text": "a"}])["task_ids"]
    sent = {"task": task_id, "result": CHOICE, **body}
    assert field in invalid_fields(api.post("/api/predictions", json=sent))


def test_a_score_sent_as_text_is_read_as_a_number_as_label_studio_does(api):
    pid = create_project(api)["id"]
    [task_id] = import_(api, pid, [{"text": "a"}])["task_ids"]
    response = api.post("/api/predictions", json={"task": task_id, "result": CHOICE, "score": "0.25"})
    assert response.status_code == 201, response.text
    assert response.json()["score"] == 0.25


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(api, literal):
    pid = create_project(api)["id"]
    [task_id] = import_(api, pid, [{"text": "a"}])["task_ids"]
    body = f'{{"task": {task_id}, "result": [], "score": {literal}}}'.encode()
    response = api.post("/api/predictions", content=body, headers={"Content-Type": "application/json"})
    assert invalid_fields(response) == {"score"}  # named where it stands in the body
    assert literal in response.json()["validation_errors"]["score"][0]


def test_an_annotation_of_the_wrong_type_is_a_400(api):
    pid = create_project(api)["id"]
    [task_id] = import_(api, pid, [{"text": "a"}])["task_ids"]
    annotation = api.post(f"/api/tasks/{task_id}/annotations", json={"result": CHOICE}).json()
    for body, field in (({"last_action": 5}, "last_action"), ({"lead_time": "slow"}, "lead_time")):
        assert invalid_fields(api.patch(f"/api/annotations/{annotation['id']}", json=body)) == {field}


def test_query_parameters_are_typed_and_empty_ones_are_the_default(api):
    pid = create_project(api)["id"]
    import_(api, pid, [{"text": "a"}, {"text": "b"}])
    assert invalid_fields(api.get("/api/tasks", params={"project": "abc"})) == {"project"}
    assert invalid_fields(api.get("/api/tasks")) == {"project"}
    assert invalid_fields(api.get("/api/tasks", params={"project": pid, "page": "x"})) == {"page"}
    page = api.get("/api/tasks", params={"project": pid, "page": "", "page_size": ""})
    assert page.status_code == 200 and page.json()["total"] == 2


def test_flags_read_as_label_studio_clients_send_them(api):
    pid = create_project(api)["id"]
    for sent, has_ids in (("True", True), ("1", True), ("false", False), ("", False), ("maybe", False)):
        response = api.post(
            f"/api/projects/{pid}/import", params={"return_task_ids": sent}, json=[{"text": "a"}]
        )
        assert response.status_code == 201, response.text
        assert ("task_ids" in response.json()) is has_ids, sent


def test_a_body_without_a_content_type_is_read_as_json(api):
    response = api.post(
        "/api/projects",
        content=b'{"title": "bare", "label_config": "<View><Text name=\\"t\\" value=\\"$t\\"/></View>"}',
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "bare"


def test_a_missing_or_non_object_body_is_a_non_field_error(api):
    assert invalid_fields(api.post("/api/tasks")) == {"non_field_errors"}
    assert invalid_fields(api.post("/api/tasks", json=[1, 2])) == {"non_field_errors"}
