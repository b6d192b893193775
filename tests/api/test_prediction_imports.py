"""Label Studio's bulk prediction paths: `POST /api/projects/{id}/import/predictions` (the legacy SDK's
`create_predictions`) and Data Manager actions sent without a body, which act on every task."""

from __future__ import annotations

from tests.api.test_ml_backends import predictions_of, project_with_tasks


def choice(label: str) -> list[dict]:
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


def test_import_predictions_creates_them_and_sets_scores(api):
    pid, ids = project_with_tasks(api, ["good", "bad", "meh"])
    response = api.post(
        f"/api/projects/{pid}/import/predictions",
        json=[
            {"task": ids[0], "result": choice("Positive"), "score": 0.9, "model_version": "m1"},
            {"task": ids[1], "result": "Negative", "score": 0.4, "model_version": "m1"},
            {"task": ids[1], "result": choice("Neutral"), "model_version": "m2"},
        ],
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"created": 3}
    first = predictions_of(api, ids[0])
    assert [(p["model_version"], p["score"]) for p in first] == [("m1", 0.9)]
    second = predictions_of(api, ids[1])
    assert sorted(p["result"][0]["value"]["choices"][0] for p in second) == ["Negative", "Neutral"]
    assert predictions_of(api, ids[2]) == []
    assert api.get(f"/api/tasks/{ids[1]}").json()["total_predictions"] == 2
    assert api.get(f"/api/projects/{pid}").json()["total_predictions_number"] == 3
    # The uncertainty sampler sees the imported scores: the least certain task comes first.
    api.patch(f"/api/projects/{pid}", json={"sampling": "Uncertainty sampling", "model_version": "m1"})
    assert api.get(f"/api/projects/{pid}/next").json()["id"] == ids[1]


def test_import_predictions_is_all_or_nothing_and_checks_the_project(api):
    pid, ids = project_with_tasks(api, ["good"])
    _, other_ids = project_with_tasks(api, ["elsewhere"])
    cases = [
        (
            [
                {"task": ids[0], "result": choice("Positive")},
                {"task": other_ids[0], "result": choice("Positive")},
            ],
            "1.task",
        ),
        (
            [{"task": ids[0], "result": choice("Positive")}, {"task": 10**9, "result": choice("Positive")}],
            "1.task",
        ),
        ([{"task": ids[0]}], "0.result"),
        (
            [
                {
                    "task": ids[0],
                    "result": [{"from_name": "nope", "to_name": "text", "type": "choices", "value": {}}],
                }
            ],
            "0.result",
        ),
        ([{"task": ids[0], "result": choice("Positive"), "score": "high"}], "0.score"),
        ([{"task": "1", "result": choice("Positive")}], "0.task"),
        (["not an object"], "0"),
        ([], "non_field_errors"),
    ]
    for body, field in cases:
        response = api.post(f"/api/projects/{pid}/import/predictions", json=body)
        assert response.status_code == 400, (body, response.text)
        assert field in response.json()["validation_errors"], (body, response.json())
    not_a_list = api.post(f"/api/projects/{pid}/import/predictions", json={"task": ids[0]})
    assert not_a_list.status_code == 400
    assert predictions_of(api, ids[0]) == [] and predictions_of(api, other_ids[0]) == []
    assert api.get(f"/api/projects/{pid}").json()["total_predictions_number"] == 0


def test_import_predictions_needs_a_manager(api, make_user):
    pid, ids = project_with_tasks(api, ["good"])
    user, annotator = make_user("ann@example.com", "annotator")
    api.post(f"/api/projects/{pid}/members", json={"user": user["id"]})
    body = [{"task": ids[0], "result": choice("Positive")}]
    assert annotator.post(f"/api/projects/{pid}/import/predictions", json=body).status_code == 403
    _, outsider = make_user("out@example.com", "manager")
    assert outsider.post(f"/api/projects/{pid}/import/predictions", json=body).status_code == 404


def test_a_data_manager_action_without_a_body_acts_on_every_task(api):
    pid, ids = project_with_tasks(api, ["a", "b", "c"])
    api.post(
        f"/api/projects/{pid}/import/predictions",
        json=[{"task": i, "result": choice("Positive"), "model_version": "m"} for i in ids],
    )
    response = api.post("/api/dm/actions", params={"id": "delete_tasks_predictions", "project": pid})
    assert response.status_code == 200, response.text
    assert response.json()["processed_items"] == 3
    assert all(predictions_of(api, i) == [] for i in ids)
    assert api.get(f"/api/projects/{pid}").json()["total_predictions_number"] == 0
    # A body that is there must still be JSON.
    broken = api.post(
        "/api/dm/actions",
        params={"id": "delete_tasks_predictions", "project": pid},
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code == 400


def test_retrieve_without_a_backend_says_so(api):
    pid, _ = project_with_tasks(api, ["a"])
    body = api.post("/api/dm/actions", params={"id": "retrieve_tasks_predictions", "project": pid}).json()
    assert body["processed_items"] == 0
    assert body["detail"] == "Retrieved 0 predictions: the project has no ML backend; connect one at /api/ml"
