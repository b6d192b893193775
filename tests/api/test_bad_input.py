"""Bad input is a 400 naming the field, never a 500, and nothing of it is stored: the cases of the fuzzing
report, each through the real app."""

from __future__ import annotations

import json

import pytest

from tests.api.test_bad_input_scan import FakeModel
from tests.api.test_projects import create_project
from tests.api.test_tasks import CHOICE, import_


def raw_post(api, path, text: str, method: str = "POST", **kwargs):
    """Send `text` as it is: NaN and lone surrogates are what a client's JSON encoder may produce."""
    return api.request(
        method,
        path,
        content=text.encode("utf-8", "surrogatepass"),
        headers={"Content-Type": "application/json"},
        **kwargs,
    )


def assert_400_naming(response, field: str) -> list[str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status_code"] == 400 and body["id"] and "version" in body and "exc_info" in body
    assert field in body["validation_errors"], body
    return body["validation_errors"][field]


@pytest.fixture
def task(api):
    pid = create_project(api)["id"]
    [tid] = import_(api, pid, [{"text": "a"}])["task_ids"]
    return pid, tid


# --- 1. An empty model version --------------------------------------------------------------------------


def test_an_empty_model_version_is_kept_and_the_task_stays_usable(api, task):
    pid, tid = task
    made = api.post(
        "/api/predictions", json={"task": tid, "result": "Positive", "score": 0.25, "model_version": "m"}
    ).json()
    patched = api.patch(f"/api/predictions/{made['id']}", json={"model_version": ""})
    assert patched.status_code == 200 and patched.json()["model_version"] == ""
    other = api.post(
        "/api/predictions", json={"task": tid, "result": "Negative", "score": 0.75, "model_version": "~x"}
    )
    assert other.status_code == 201
    # The project follows the empty version: Uncertainty sampling orders by its score.
    settings = {"model_version": "", "sampling": "Uncertainty sampling"}
    assert api.patch(f"/api/projects/{pid}", json=settings).status_code == 200
    assert api.get(f"/api/projects/{pid}/next").json()["id"] == tid
    assert api.post(f"/api/tasks/{tid}/annotations", json={"result": CHOICE}).status_code == 201

    got = api.get(f"/api/tasks/{tid}")
    assert got.status_code == 200
    assert sorted(p["model_version"] for p in got.json()["predictions"]) == ["", "~x"]
    assert api.get("/api/tasks", params={"project": pid, "fields": "all"}).status_code == 200
    assert api.get(f"/api/projects/{pid}/export").status_code == 200
    assert api.get(f"/api/tasks/{tid}/agreement").status_code == 200
    assert api.get(f"/api/projects/{pid}/agreement").status_code == 200
    assert api.delete(f"/api/tasks/{tid}").status_code == 204
    assert api.get(f"/api/projects/{pid}").json()["task_number"] == 0


def test_the_scores_are_kept_per_model_version_including_empty_ones(api, task):
    from functions.store import tasks as task_store

    _, tid = task
    for version, score in (("", 0.1), ("~", 0.2), ("~~a", 0.3), ("b", 0.4)):
        made = api.post(
            "/api/predictions",
            json={"task": tid, "result": "Positive", "score": score, "model_version": version or "x"},
        ).json()
        if not version:
            api.patch(f"/api/predictions/{made['id']}", json={"model_version": ""})
    assert task_store.get(tid).prediction_scores == {"": 0.1, "~": 0.2, "~~a": 0.3, "b": 0.4}


@pytest.mark.parametrize("value", [5, None, ["v"], "x" * 256])
def test_a_model_version_that_is_not_a_short_string_is_refused(api, task, value):
    _, tid = task
    made = api.post("/api/predictions", json={"task": tid, "result": "Positive", "model_version": "m"}).json()
    assert_400_naming(
        api.patch(f"/api/predictions/{made['id']}", json={"model_version": value}), "model_version"
    )
    assert api.get(f"/api/predictions/{made['id']}").json()["model_version"] == "m"


# --- 2. Types and ranges --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ['"AAA"', "{}", "null", "true", '"1"', "1.5", "0", "2147483648"])
def test_maximum_annotations_must_be_an_integer_of_at_least_1(api, value):
    body = '{"title": "p", "maximum_annotations": ' + value + "}"
    assert_400_naming(raw_post(api, "/api/projects", body), "maximum_annotations")
    assert api.get("/api/projects").json()["count"] == 0
    pid = create_project(api)["id"]
    patch = '{"maximum_annotations": ' + value + "}"
    assert_400_naming(raw_post(api, f"/api/projects/{pid}", patch, method="PATCH"), "maximum_annotations")
    assert api.get(f"/api/projects/{pid}").json()["maximum_annotations"] == 1
    import_(api, pid, [{"text": "still imports"}])


def test_a_whole_float_maximum_annotations_is_read_as_an_integer(api):
    project = create_project(api, maximum_annotations=2.0)
    assert project["maximum_annotations"] == 2 and isinstance(project["maximum_annotations"], int)


@pytest.mark.parametrize("value", [5, [], {}, True])
def test_title_must_be_a_string(api, value):
    assert_400_naming(api.post("/api/projects", json={"title": value}), "title")
    assert api.get("/api/projects").json()["count"] == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("show_skip_button", "maybe"),
        ("show_instruction", 2),
        ("color", 5),
        ("control_weights", []),
        ("sampling", []),
        ("overlap_cohort_percentage", 101),
        ("label_config", 5),
        ("is_published", None),
    ],
)
def test_every_project_setting_is_read_as_its_type(api, name, value):
    assert_400_naming(api.post("/api/projects", json={"title": "p", name: value}), name)
    assert api.get("/api/projects").json()["count"] == 0


def test_label_studio_spellings_of_booleans_and_null_texts_are_taken(api):
    project = create_project(api, show_skip_button="false", is_published=1, description=None)
    assert project["show_skip_button"] is False and project["is_published"] is True
    assert project["description"] == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("last_action", 0),
        ("last_action", ["submitted"]),
        ("lead_time", "1e200"),
        ("ground_truth", "perhaps"),
        ("parent_prediction", "x"),
        ("parent_annotation", 2**63),
    ],
)
def test_annotation_fields_of_the_wrong_type_store_nothing(api, task, field, value):
    pid, tid = task
    response = api.post(f"/api/tasks/{tid}/annotations", json={"result": CHOICE, field: value})
    assert_400_naming(response, field)
    assert api.get(f"/api/tasks/{tid}").json()["total_annotations"] == 0
    assert api.get(f"/api/projects/{pid}").json()["total_annotations_number"] == 0


def test_an_annotation_last_action_string_is_kept(api, task):
    _, tid = task
    made = api.post(f"/api/tasks/{tid}/annotations", json={"result": CHOICE, "last_action": "submitted"})
    assert made.status_code == 201
    changed = api.patch(f"/api/annotations/{made.json()['id']}", json={"last_action": 0})
    assert_400_naming(changed, "last_action")


@pytest.mark.parametrize(
    "score", ["2.3e-145", "1e200", "-1e200", "NaN", "Infinity", "-Infinity", '"abc"', "true"]
)
def test_a_prediction_score_must_be_a_finite_storable_number(api, task, score):
    pid, tid = task
    body = f'{{"task": {tid}, "result": "Positive", "score": {score}}}'
    assert_400_naming(raw_post(api, "/api/predictions", body), "score")
    assert api.get(f"/api/tasks/{tid}").json()["predictions"] == []
    assert api.get(f"/api/projects/{pid}").json()["total_predictions_number"] == 0
    made = api.post("/api/predictions", json={"task": tid, "result": "Positive", "score": "0.5"})
    assert made.status_code == 201 and made.json()["score"] == 0.5  # DRF's FloatField reads "0.5"
    patch = '{"score": ' + score + "}"
    assert_400_naming(raw_post(api, f"/api/predictions/{made.json()['id']}", patch, method="PATCH"), "score")
    assert api.get(f"/api/predictions/{made.json()['id']}").json()["score"] == 0.5


@pytest.mark.parametrize("value", ["AAA", [], 1.5, 2**70])
def test_validating_a_storage_by_a_bad_id_names_the_id(api, value):
    assert_400_naming(api.post("/api/storages/s3/validate", json={"id": value}), "id")


@pytest.mark.parametrize("declared", [{}, [], 5])
def test_a_filter_type_that_is_not_a_name_is_a_400(api, task, declared):
    pid, _ = task
    query = {
        "filters": {
            "conjunction": "and",
            "items": [
                {"filter": "filter:tasks:data.text", "operator": "equal", "type": declared, "value": "a"}
            ],
        }
    }
    response = api.post("/api/dm/actions", params={"id": "delete_tasks", "project": pid}, json=query)
    assert "type" in assert_400_naming(response, "query")[0]
    bad_operator = {
        "filters": {
            "conjunction": "and",
            "items": [{**query["filters"]["items"][0], "type": "String", "operator": {}}],
        }
    }
    response = api.post("/api/dm/actions", params={"id": "delete_tasks", "project": pid}, json=bad_operator)
    assert_400_naming(response, "query")
    assert api.get(f"/api/projects/{pid}").json()["task_number"] == 1


@pytest.mark.parametrize("query", ['{"filters": NaN}', "[" * 5000 + "]" * 5000, '{"a": 1' + "0" * 5000 + "}"])
def test_a_query_string_holding_unstorable_json_is_a_400(api, task, query):
    pid, _ = task
    assert_400_naming(api.get("/api/tasks", params={"project": pid, "query": query}), "query")


# --- 3. Accepted, then broken ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"title": "p", "color": NaN}', "color"),
        ('{"title": "p", "color": Infinity}', "color"),
        ('{"title": "p", "control_weights": {"sentiment": {"overall": -Infinity}}}', "control_weights"),
        ('{"title": "p", "control_weights": {"sentiment": {"overall": 1e999}}}', "control_weights"),
        ('{"title": "p", "control_weights": {"s": [2.3e-145]}}', "control_weights"),
        ('{"title": "p\\ud800"}', "title"),
        ('{"title": "p", "description": "\\udfff"}', "description"),
        ('{"title": "p", "control_weights": {"\\ud800": 1}}', "control_weights"),
        ('{"title": "p", "extra": ' + "[" * 200 + "]" * 200 + "}", "extra"),
        ("[" * 100_000 + "]" * 100_000, "non_field_errors"),
        ('{"title": 1' + "0" * 5000 + "}", "non_field_errors"),
    ],
)
def test_a_body_that_cannot_be_stored_is_refused_and_nothing_is_saved(api, body, field):
    assert_400_naming(raw_post(api, "/api/projects", body), field)
    listed = api.get("/api/projects")
    assert listed.status_code == 200 and listed.json()["count"] == 0


def test_non_finite_ml_extra_params_leave_the_backend_list_readable(api, task):
    pid, _ = task
    body = f'{{"project": {pid}, "url": "http://127.0.0.1:9", "extra_params": {{"t": NaN}}}}'
    assert_400_naming(raw_post(api, "/api/ml", body), "extra_params")
    listed = api.get("/api/ml", params={"project": pid})
    assert listed.status_code == 200 and listed.json() == []


@pytest.mark.parametrize(
    "body", ['{"refresh": NaN}', '{"refresh": "\\ud800"}', "[" * 100_000 + "]" * 100_000]
)
def test_token_refresh_without_credentials_is_a_400_for_unstorable_json(app, body):
    from fastapi.testclient import TestClient

    with TestClient(app) as anonymous:
        response = raw_post(anonymous, "/api/token/refresh", body)
    assert response.status_code == 400 and response.json()["validation_errors"]


def test_an_import_file_holding_a_lone_surrogate_is_a_400_naming_the_file(api, task):
    pid, _ = task
    content = b'[{"text": "ok"}, {"text": "bad \\ud800"}]'
    response = api.post(
        f"/api/projects/{pid}/import", files=[("file", ("t.json", content, "application/json"))]
    )
    [message] = assert_400_naming(response, "file")
    assert message.startswith("t.json:") and "[1].text" in message
    assert api.get(f"/api/projects/{pid}").json()["task_number"] == 1


def test_a_project_stored_with_unreadable_settings_reads_with_defaults(api, task):
    """Settings written before these checks (NaN, a string or a bool where a number belongs) read as the
    defaults, so listing projects works and imports into it work."""
    from pynamodb.expressions.operand import Path

    from functions.store.models import ProjectModel

    pid, _ = task
    stored = {"color": float("nan"), "maximum_annotations": "1", "show_skip_button": None, "sampling": []}
    ProjectModel(pid).update(
        actions=[Path(["setting_values", name]).set(json.dumps(value)) for name, value in stored.items()]
    )

    listed = api.get("/api/projects")
    assert listed.status_code == 200
    project = api.get(f"/api/projects/{pid}").json()
    assert project["color"] == "#FFFFFF" and project["maximum_annotations"] == 1
    assert project["show_skip_button"] is True and project["sampling"] == "Sequential sampling"
    import_(api, pid, [{"text": "b"}])


def test_a_task_stored_with_bad_scores_still_reads_lists_exports_and_deletes(api, task):
    from pynamodb.expressions.operand import Path

    from functions.store.models import TaskModel

    pid, tid = task
    TaskModel(tid).update(
        actions=[
            Path(["prediction_scores"]).set({"v": "not a number", "w": True, "x": 0.5}),
            Path(["locks"]).set({"someone": 1.0}),
        ]
    )
    got = api.get(f"/api/tasks/{tid}")
    assert got.status_code == 200
    assert api.get("/api/tasks", params={"project": pid, "fields": "all"}).status_code == 200
    assert api.get(f"/api/projects/{pid}/export").status_code == 200
    assert api.get(f"/api/projects/{pid}/next").status_code == 200
    assert api.delete(f"/api/tasks/{tid}").status_code == 204


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "deeper"),
        (b'{"results": [{"result": [], "score": NaN}]}', "NaN"),
        (b'{"results": [{"result": [], "score": 1e300}]}', "1e126"),
        (b'{"results": [{"result": [], "model_version": "\\ud800"}]}', "surrogate"),
    ],
)
def test_an_ml_answer_that_cannot_be_stored_is_the_backends_error(api, task, monkeypatch, answer, words):
    from infra.local_stack import apply_settings

    monkeypatch.setenv("LABELSTACK_ALLOWED_HOSTS", "127.0.0.1")
    monkeypatch.setenv("LABELSTACK_ML_RETRIES", "0")
    apply_settings({})
    model = FakeModel(predict=answer)
    try:
        pid, tid = task
        assert api.post("/api/ml", json={"project": pid, "url": model.url, "title": "m"}).status_code == 201
        response = api.post(
            "/api/dm/actions",
            params={"id": "retrieve_tasks_predictions", "project": pid},
            json={"selectedItems": {"all": True, "excluded": []}},
        )
        assert response.status_code == 200 and words in response.json()["error"]
        [backend] = api.get("/api/ml", params={"project": pid}).json()
        assert backend["state"] == "ER" and words in backend["error_message"]
        assert api.get(f"/api/tasks/{tid}").json()["predictions"] == []
    finally:
        model.close()
        apply_settings({})


@pytest.mark.parametrize("digits", [19, 40, 130])
def test_an_id_no_object_can_have_is_a_400_naming_it(api, digits):
    """Past what the store can hold, an id is refused at the edge (the path parameter is a 64-bit int)."""
    huge = "9" * digits
    for path, field in (
        (f"/api/tasks/{huge}", "task_id"),
        (f"/api/projects/{huge}", "project_id"),
        (f"/api/annotations/{huge}", "annotation_id"),
        (f"/api/ml/{huge}", "backend_id"),
    ):
        response = api.get(path)
        assert response.status_code == 400, (path, response.text)
        assert list(response.json()["validation_errors"]) == [field]
    body = {"task": int(huge), "result": "Positive"}
    assert api.post("/api/predictions", json=body).status_code in (400, 404)


def test_values_kept_inside_an_item_are_bounded(api, task):
    pid, tid = task
    big = "x" * 420_000
    assert_400_naming(
        api.patch(f"/api/projects/{pid}", json={"expert_instruction": big}), "expert_instruction"
    )
    assert_400_naming(api.patch(f"/api/tasks/{tid}", json={"meta": {"note": big}}), "meta")
    imported = api.post(f"/api/projects/{pid}/import", json=[{"data": {"text": "a"}, "meta": {"note": big}}])
    assert "meta" in assert_400_naming(imported, "non_field_errors")[0]
    assert_400_naming(
        api.post("/api/users", json={"email": "a@example.com", "first_name": big}), "first_name"
    )
    project = api.get(f"/api/projects/{pid}").json()
    assert project["expert_instruction"] == "" and project["task_number"] == 1
    # Large task data is fine: it moves to the files bucket.
    import_(api, pid, [{"data": {"text": big}}])
