"""The Data Manager through the real app: filtered and ordered task lists, bulk actions, agreement."""

from __future__ import annotations

import json
import threading
import time

from tests.api.test_label_stream import labeling_project, submit
from tests.api.test_projects import create_project
from tests.api.test_tasks import CHOICE, import_

NEGATIVE = [{**CHOICE[0], "value": {"choices": ["Negative"]}}]


def listed(api, pid, query, **params):
    response = api.get("/api/tasks", params={"project": pid, "query": json.dumps(query), **params})
    assert response.status_code == 200, response.text
    body = response.json()
    return body["total"], [t["id"] for t in body["tasks"]]


def filters(*items, conjunction="and"):
    return {
        "filters": {"conjunction": conjunction, "items": list(items)},
        "selectedItems": {"all": True, "excluded": []},
    }


def scored_project(api):
    pid = create_project(api)["id"]
    ids = import_(
        api,
        pid,
        [
            {
                "data": {"text": "apple pie"},
                "predictions": [{"model_version": "v1", "score": 0.2, "result": CHOICE}],
            },
            {
                "data": {"text": "Apple juice"},
                "predictions": [{"model_version": "v1", "score": 0.8, "result": CHOICE}],
            },
            {"data": {"text": "pear"}},
        ],
    )["task_ids"]
    api.post(f"/api/tasks/{ids[2]}/annotations", json={"result": CHOICE})
    return pid, ids


def test_filters_on_labeled_state_predictions_score_and_data(api):
    pid, ids = scored_project(api)
    labeled = {"filter": "filter:tasks:completed_at", "operator": "empty", "value": False, "type": "Datetime"}
    assert listed(api, pid, filters(labeled)) == (1, [ids[2]])
    score = {
        "filter": "filter:tasks:predictions_score",
        "operator": "in",
        "type": "Number",
        "value": {"min": 0.1, "max": 0.5},
    }
    assert listed(api, pid, filters(score)) == (1, [ids[0]])
    text = {"filter": "filter:tasks:data.text", "operator": "contains", "type": "String", "value": "APPLE"}
    assert listed(api, pid, filters(text)) == (2, ids[:2])
    has_predictions = {
        "filter": "filter:tasks:total_predictions",
        "operator": "greater",
        "type": "Number",
        "value": 0,
    }
    assert listed(api, pid, filters(has_predictions, labeled, conjunction="or")) == (3, ids)


def test_filter_by_annotator_and_ordering(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 3, annotators=("a",))
    me = c["a"].get("/api/current-user/whoami").json()
    submit(c["a"], ids[1])
    by_a = {"filter": "filter:tasks:annotators", "operator": "contains", "type": "List", "value": me["id"]}
    assert listed(api, pid, filters(by_a)) == (1, [ids[1]])
    newest_first = {"ordering": ["-tasks:id"], "selectedItems": {"all": True, "excluded": [ids[0]]}}
    assert listed(api, pid, newest_first) == (2, [ids[2], ids[1]])
    most_annotated = {"ordering": ["-tasks:total_annotations"]}
    assert listed(api, pid, most_annotated, page_size=1) == (3, [ids[1]])
    assert (
        api.get(
            "/api/tasks", params={"project": pid, "query": json.dumps(most_annotated), "page": 9}
        ).status_code
        == 404
    )


def test_a_bad_query_is_a_400_naming_what_is_wrong(api):
    pid = create_project(api)["id"]
    bad = filters({"filter": "filter:tasks:total_annotations", "operator": "bigger", "value": 1})
    response = api.get("/api/tasks", params={"project": pid, "query": json.dumps(bad)})
    assert response.status_code == 400
    assert "operator" in response.json()["validation_errors"]["query"][0]
    assert api.get("/api/tasks", params={"project": pid, "query": "{not json"}).status_code == 400


def _regex_filter(pattern: str) -> dict:
    return filters(
        {"filter": "filter:tasks:data.text", "operator": "regex", "type": "String", "value": pattern}
    )


def test_a_nested_quantifier_regex_neither_stalls_its_request_nor_the_api(api):
    # A backtracking engine takes about 1 s on the short text (twice that per character more) and holds
    # the interpreter meanwhile: the short project comes first so such an engine fails instead of hanging.
    for text in ("a" * 24 + "!", "a" * 10_000 + "!"):
        pid = create_project(api)["id"]
        [_, matching] = import_(api, pid, [{"text": text}, {"text": "aaa"}])["task_ids"]
        answered: dict = {}

        def filtered(pid=pid, answered=answered):
            started = time.perf_counter()
            answered["response"] = api.get(
                "/api/tasks", params={"project": pid, "query": json.dumps(_regex_filter("(a+)+$"))}
            )
            answered["seconds"] = time.perf_counter() - started

        request = threading.Thread(target=filtered)
        request.start()
        health_seconds = []
        while True:  # at least once, and for as long as the filtered request runs
            started = time.perf_counter()
            assert api.get("/health").status_code == 200
            health_seconds.append(time.perf_counter() - started)
            if not request.is_alive() or time.perf_counter() - started > 10:
                break
        request.join(timeout=30)
        assert max(health_seconds) < 0.5, health_seconds
        assert answered["seconds"] < 2, f"{answered['seconds']:.2f} s for {len(text)} characters"
        assert answered["response"].status_code == 200, answered["response"].text
        body = answered["response"].json()
        assert (body["total"], [t["id"] for t in body["tasks"]]) == (1, [matching])


def test_a_regex_linear_time_matching_cannot_have_is_a_400_naming_the_query(api):
    pid = create_project(api)["id"]
    for pattern, expected in [
        (r"(\w)\1", "backreferences or lookaround"),
        ("(?<=a)b", "backreferences or lookaround"),
        ("a" * 1001, "1001 characters long; the limit is 1000"),
    ]:
        response = api.get("/api/tasks", params={"project": pid, "query": json.dumps(_regex_filter(pattern))})
        assert response.status_code == 400, response.text
        [message] = response.json()["validation_errors"]["query"]
        assert message.startswith("filters.items[0].value: ") and expected in message, message


def test_the_legacy_sdk_default_query_takes_the_fast_path(api):
    pid, ids = scored_project(api)
    sdk_query = {"filters": None, "ordering": [], "selectedItems": {"all": True, "excluded": []}}
    assert listed(api, pid, sdk_query) == (3, ids)


def test_actions_delete_annotations_predictions_and_tasks(api):
    pid, ids = scored_project(api)
    actions = api.get("/api/dm/actions", params={"project": pid}).json()
    assert "delete_tasks" in [a["id"] for a in actions]

    def run(action, selected):
        response = api.post(
            "/api/dm/actions", params={"id": action, "project": pid}, json={"selectedItems": selected}
        )
        assert response.status_code == 200, response.text
        return response.json()["processed_items"]

    assert run("delete_tasks_annotations", {"all": True, "excluded": []}) == 1
    assert api.get(f"/api/tasks/{ids[2]}").json()["is_labeled"] is False
    assert run("delete_tasks_predictions", {"all": False, "included": [ids[0]]}) == 1
    assert api.get(f"/api/tasks/{ids[0]}").json()["total_predictions"] == 0
    assert run("delete_tasks", {"all": False, "included": [ids[1]]}) == 1
    assert api.get(f"/api/tasks/{ids[1]}").status_code == 404
    project = api.get(f"/api/projects/{pid}").json()
    assert (
        project["task_number"],
        project["total_annotations_number"],
        project["total_predictions_number"],
        project["finished_task_number"],
    ) == (2, 0, 0, 0)
    unknown = api.post("/api/dm/actions", params={"id": "explode", "project": pid}, json={})
    assert unknown.status_code == 400 and "id" in unknown.json()["validation_errors"]


def test_predictions_to_annotations_and_annotator_permissions(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 2, annotators=("a",), predictions=[0.3])
    # An annotator is offered only the actions an annotator may run.
    listed = c["a"].get("/api/dm/actions", params={"project": pid}).json()
    assert [a["id"] for a in listed] == ["predictions_to_annotations"]
    response = c["a"].post(
        "/api/dm/actions",
        params={"id": "predictions_to_annotations", "project": pid},
        json={"selectedItems": {"all": True, "excluded": []}},
    )
    assert response.status_code == 200 and response.json()["processed_items"] == 1
    task = api.get(f"/api/tasks/{ids[0]}").json()
    assert task["is_labeled"] and task["annotations"][0]["parent_prediction"] == task["predictions"][0]["id"]
    denied = c["a"].post(
        "/api/dm/actions",
        params={"id": "delete_tasks", "project": pid},
        json={"selectedItems": {"all": True, "excluded": []}},
    )
    assert denied.status_code == 403


def test_agreement_per_task_and_for_the_project(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 2, annotators=("a", "b", "c"), maximum_annotations=3)
    for name, result in (("a", CHOICE), ("b", CHOICE), ("c", NEGATIVE)):
        submit(c[name], ids[0], result=result)
    for name in ("a", "b"):
        submit(c[name], ids[1])
    one = api.get(f"/api/tasks/{ids[0]}/agreement").json()
    assert one["annotations"] == 3 and abs(one["agreement"] - 1 / 3) < 1e-9
    summary = api.get(f"/api/projects/{pid}/agreement").json()
    assert summary["tasks_with_agreement"] == 2 and summary["max"] == 1.0
    assert abs(summary["mean"] - (1 / 3 + 1) / 2) < 1e-9 and sum(summary["histogram"]) == 2
