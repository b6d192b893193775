"""The label stream held to a Data Manager view ("Label tasks as displayed"), its history (Back and
Forward) and its progress, through the real app."""

from __future__ import annotations

import json

from tests.api.test_label_stream import labeling_project, next_of, submit
from tests.api.test_tasks import CHOICE

EVEN_TEXT = {"filter": "filter:tasks:data.n", "operator": "in_list", "type": "Number", "value": [0, 2, 4]}


def numbered_project(api, make_user, n=6, **settings):
    """Tasks with data {text, n}; returns (project id, task ids, annotator clients)."""
    from tests.api.test_projects import create_project
    from tests.api.test_tasks import import_

    project = create_project(api, **settings)
    tasks = [{"data": {"text": f"t{i}", "n": i}} for i in range(n)]
    ids = import_(api, project["id"], tasks)["task_ids"]
    clients = {}
    for name in ("a", "b"):
        user, client = make_user(f"{name}@example.com", "annotator")
        api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
        clients[name] = client
    return project["id"], ids, clients


def as_displayed(client, pid, filters=(), ordering=()):
    """What the web UI (and Label Studio's Data Manager) sends for "Label tasks as displayed"."""
    response = client.post(
        "/api/dm/actions",
        params={"project": pid, "id": "next_task"},
        json={"filters": {"conjunction": "and", "items": list(filters)}, "ordering": list(ordering)},
    )
    assert response.status_code in (200, 404), response.text
    return response.json() if response.status_code == 200 else None


def test_labeling_as_displayed_follows_the_tabs_filter_and_order(api, make_user):
    pid, ids, c = numbered_project(api, make_user)
    seen = []
    while (task := as_displayed(c["a"], pid, [EVEN_TEXT], ["-tasks:id"])) is not None:
        assert task["queue"] == "Data manager queue"
        seen.append(task["id"])
        submit(c["a"], task["id"])
    assert seen == [ids[4], ids[2], ids[0]]  # the tab's tasks, in its order, whatever the sampling
    # The rest of the project is untouched and still in the ordinary stream.
    assert next_of(c["a"], pid)["id"] == ids[1]


def test_the_data_manager_queue_respects_leases_and_overlap(api, make_user):
    pid, ids, c = numbered_project(api, make_user, n=3, sampling="Uniform sampling")
    first = as_displayed(c["a"], pid, ordering=["-tasks:id"])
    assert first["id"] == ids[2]
    assert as_displayed(c["a"], pid, ordering=["-tasks:id"])["id"] == ids[2]  # held: the same again
    assert as_displayed(c["b"], pid, ordering=["-tasks:id"])["id"] == ids[1]  # a holds the first one
    assert next_of(c["b"], pid)["id"] == ids[1]  # b's lease, whichever way b asks


def test_moving_to_a_tab_frees_the_task_held_before(api, make_user):
    pid, ids, c = numbered_project(api, make_user, n=2)
    assert next_of(c["a"], pid)["id"] == ids[0]
    assert as_displayed(c["a"], pid, ordering=["-tasks:id"])["id"] == ids[1]
    # a's lease on task 0 ended when a moved on, so b gets it now rather than in a day.
    assert next_of(c["b"], pid)["id"] == ids[0]


def test_next_with_a_view_samples_within_it_and_returns_the_held_task(api, make_user):
    pid, ids, c = numbered_project(api, make_user)
    view = api.post(
        "/api/dm/views",
        json={
            "project": pid,
            "data": {"filters": {"conjunction": "and", "items": [EVEN_TEXT]}, "ordering": ["-tasks:id"]},
        },
    ).json()
    task = c["a"].get(f"/api/projects/{pid}/next", params={"view": view["id"]}).json()
    assert task["id"] == ids[4] and task["queue"] == "Sequence queue"
    again = c["a"].get(f"/api/projects/{pid}/next", params={"view": view["id"]}).json()
    assert again["id"] == ids[4] and again["queue"] == "Task lock"
    # A view's id in the action's query, as Label Studio's Data Manager can send it.
    by_view = c["b"].post("/api/dm/actions", params={"project": pid, "id": "next_task", "view": view["id"]})
    assert by_view.json()["id"] == ids[2]
    # Another project's view is no view here.
    from tests.api.test_projects import create_project

    other = create_project(api)["id"]
    foreign = api.post("/api/dm/views", json={"project": other, "data": {}}).json()
    assert c["a"].get(f"/api/projects/{pid}/next", params={"view": foreign["id"]}).status_code == 404


def test_uncertainty_sampling_within_a_view_takes_the_least_certain_first(api, make_user):
    pid, ids, c = labeling_project(
        api,
        make_user,
        4,
        predictions=[0.9, 0.2, 0.5, 0.1],
        sampling="Uncertainty sampling",
        model_version="v1",
    )
    before_last = {"filter": "filter:tasks:id", "operator": "less", "type": "Number", "value": ids[3]}
    query = json.dumps({"filters": {"conjunction": "and", "items": [before_last]}})
    task = c["a"].get(f"/api/projects/{pid}/next", params={"query": query}).json()
    assert task["id"] == ids[1]  # 0.2: the least certain of the first three (0.1 is outside the query)


def test_next_task_is_not_listed_among_the_actions_and_a_bad_query_is_a_400(api, make_user):
    pid, _ids, c = numbered_project(api, make_user, n=1)
    assert "next_task" not in [a["id"] for a in c["a"].get("/api/dm/actions", params={"project": pid}).json()]
    bad = c["a"].post(
        "/api/dm/actions",
        params={"project": pid, "id": "next_task"},
        json={"filters": {"conjunction": "and", "items": [{"filter": "filter:tasks:nope"}]}},
    )
    assert bad.status_code == 400 and "query" in bad.json()["validation_errors"]


def test_history_lists_the_tasks_handed_out_with_their_annotations(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 3)
    history = f"/api/projects/{pid}/label-stream-history"
    assert c["a"].get(history).json() == []
    first = next_of(c["a"], pid)["id"]
    next_of(c["a"], pid)  # the held task again: listed once
    annotation = submit(c["a"], first)
    second = next_of(c["a"], pid)["id"]
    assert c["a"].get(history).json() == [
        {"taskId": first, "annotationId": annotation["id"]},
        {"taskId": second, "annotationId": None},
    ]
    # A submit elsewhere (not from the stream) adds nothing; b's history is b's.
    submit(c["a"], ids[2])
    assert len(c["a"].get(history).json()) == 2
    assert c["b"].get(history).json() == []
    # Deleted annotations and tasks drop out of it, as in Label Studio.
    assert c["a"].delete(f"/api/annotations/{annotation['id']}").status_code == 204
    assert c["a"].get(history).json()[0] == {"taskId": first, "annotationId": None}
    assert api.delete(f"/api/tasks/{second}").status_code == 204
    assert [e["taskId"] for e in c["a"].get(history).json()] == [first]


def test_progress_counts_the_callers_work_over_the_project_or_a_view(api, make_user):
    pid, ids, c = numbered_project(api, make_user, n=6)
    progress = f"/api/projects/{pid}/label-stream-progress"
    assert c["a"].get(progress).json() == {"queue_done": 0, "queue_total": 6}
    submit(c["a"], ids[0])
    submit(c["b"], ids[1])  # labeled by someone else: no longer in a's stream
    skip = c["a"].post(f"/api/tasks/{ids[2]}/annotations", json={"result": [], "was_cancelled": True})
    assert skip.status_code == 201
    assert c["a"].get(progress).json() == {"queue_done": 2, "queue_total": 5}
    assert c["b"].get(progress).json() == {"queue_done": 1, "queue_total": 5}
    query = json.dumps({"filters": {"conjunction": "and", "items": [EVEN_TEXT]}})
    assert c["a"].get(progress, params={"query": query}).json() == {"queue_done": 2, "queue_total": 3}


def test_progress_does_not_count_skips_that_come_back(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 2, skip_queue="REQUEUE_FOR_ME")
    c["a"].post(f"/api/tasks/{ids[0]}/annotations", json={"result": [], "was_cancelled": True})
    submit(c["a"], ids[1], result=CHOICE)
    assert c["a"].get(f"/api/projects/{pid}/label-stream-progress").json() == {
        "queue_done": 1,
        "queue_total": 2,
    }
