"""Data Manager views (/api/dm/views) through the real app: Label Studio's shape, the checks on what a view
may hold, who may do what, and a view as the scope of task lists and actions."""

from __future__ import annotations

from tests.api.test_label_stream import labeling_project
from tests.api.test_projects import create_project
from tests.api.test_tasks import import_

GREATER = {"filter": "filter:tasks:id", "operator": "greater", "type": "Number", "value": 0}


def tab(title="Tab", items=(), ordering=(), **extra):
    return {
        "title": title,
        "filters": {"conjunction": "and", "items": list(items)},
        "ordering": list(ordering),
        "hiddenColumns": {"explore": ["tasks:inner_id"], "labeling": []},
        **extra,
    }


def create_view(client, pid, data, **fields):
    response = client.post("/api/dm/views", json={"project": pid, "data": data, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_views_are_created_listed_in_tab_order_changed_and_deleted(api):
    pid = create_project(api)["id"]
    other = create_project(api)["id"]
    first = create_view(api, pid, tab("Todo", [GREATER], ["-tasks:id"], columnsWidth={"tasks:id": 80}))
    assert first == {
        "id": first["id"],
        "data": tab("Todo", [GREATER], ["-tasks:id"], columnsWidth={"tasks:id": 80}),
        "order": 0,
        "user": api.get("/api/current-user/whoami").json()["id"],
        "project": pid,
    }
    second = create_view(api, pid, tab("Done"))
    create_view(api, other, tab("Elsewhere"))
    assert second["order"] == 1  # a new tab goes last
    listed = api.get("/api/dm/views", params={"project": pid}).json()
    assert [v["data"]["title"] for v in listed] == ["Todo", "Done"]
    assert api.get(f"/api/dm/views/{first['id']}").json() == first

    # PATCH replaces the data whole, as the Data Manager saves a tab; the rest stays.
    renamed = api.patch(f"/api/dm/views/{first['id']}", json={"data": tab("Renamed")})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["data"] == tab("Renamed") and renamed.json()["order"] == 0
    moved = api.patch(f"/api/dm/views/{first['id']}", json={"order": 5}).json()
    assert moved["order"] == 5 and moved["data"]["title"] == "Renamed"
    put = api.put(f"/api/dm/views/{first['id']}", json={"project": pid}).json()
    assert put["data"] == {} and put["order"] == 5  # PUT: data not sent is emptied

    order = api.post("/api/dm/views/order", json={"project": pid, "ids": [first["id"], second["id"]]})
    assert order.status_code == 204
    assert [v["id"] for v in api.get("/api/dm/views", params={"project": pid}).json()] == [
        first["id"],
        second["id"],
    ]

    assert api.delete(f"/api/dm/views/{first['id']}").status_code == 204
    assert api.get(f"/api/dm/views/{first['id']}").status_code == 404
    reset = api.delete("/api/dm/views/reset", params={"project": pid})
    assert reset.status_code == 204
    assert api.get("/api/dm/views", params={"project": pid}).json() == []
    assert len(api.get("/api/dm/views", params={"project": other}).json()) == 1  # untouched


def test_reset_takes_the_project_from_the_body_as_label_studio_does(api):
    pid = create_project(api)["id"]
    create_view(api, pid, tab())
    assert api.request("DELETE", "/api/dm/views/reset", json={"project": pid}).status_code == 204
    assert api.get("/api/dm/views", params={"project": pid}).json() == []
    missing = api.delete("/api/dm/views/reset")
    assert missing.status_code == 400 and "project" in missing.json()["validation_errors"]


def test_a_bad_view_is_a_400_naming_the_field_and_stores_nothing(api):
    pid = create_project(api)["id"]
    cases = {
        "data": "not an object",
        "data.filters.items[0].operator": tab(items=[{**GREATER, "operator": "bigger"}]),
        "data.filters.items[0].value": tab(items=[{**GREATER, "value": "three"}]),
        "data.filters.items[0].filter": tab(items=[{**GREATER, "filter": "filter:tasks:nope"}]),
        "data.filters.conjunction": {"filters": {"conjunction": "xor", "items": []}},
        "data.ordering[0]": tab(ordering=["tasks:nope"]),
        "data.title": tab(title="x" * 300),
        "data.hiddenColumns.explore[0]": {"hiddenColumns": {"explore": [3]}},
        "data.selectedItems": {"selectedItems": {"all": "yes"}},
    }
    for field, data in cases.items():
        response = api.post("/api/dm/views", json={"project": pid, "data": data})
        assert response.status_code == 400, (field, response.text)
        assert list(response.json()["validation_errors"]) == [field], response.text
    huge = api.post("/api/dm/views", json={"project": pid, "data": {"note": "x" * 70_000}})
    assert huge.status_code == 400 and "data" in huge.json()["validation_errors"]
    view = create_view(api, pid, tab())
    bad_patch = api.patch(f"/api/dm/views/{view['id']}", json={"data": {"ordering": "tasks:id"}})
    assert bad_patch.status_code == 400 and "data.ordering" in bad_patch.json()["validation_errors"]
    assert api.get(f"/api/dm/views/{view['id']}").json()["data"] == tab()
    assert len(api.get("/api/dm/views", params={"project": pid}).json()) == 1


def test_views_belong_to_their_project_and_its_members(api, make_user):
    pid, _, clients = labeling_project(api, make_user, 1, annotators=("a", "b"))
    other = create_project(api)["id"]
    _, outsider = make_user("out@example.com", "annotator")
    mine = create_view(clients["a"], pid, tab("a's"))
    managers = create_view(api, pid, tab("admin's"))
    foreign = create_view(api, other, tab("other project"))

    # Members see and change the project's views; others get 404 for the project and every view in it.
    assert [
        v["data"]["title"] for v in clients["b"].get("/api/dm/views", params={"project": pid}).json()
    ] == [
        "a's",
        "admin's",
    ]
    assert outsider.get("/api/dm/views", params={"project": pid}).status_code == 404
    assert outsider.get(f"/api/dm/views/{mine['id']}").status_code == 404
    assert outsider.patch(f"/api/dm/views/{mine['id']}", json={"data": tab()}).status_code == 404
    assert outsider.post("/api/dm/views", json={"project": pid, "data": tab()}).status_code == 404
    assert clients["a"].get(f"/api/dm/views/{foreign['id']}").status_code == 404
    # A view stays in its project; the order endpoint ignores views of other projects.
    moved = api.patch(f"/api/dm/views/{mine['id']}", json={"project": other})
    assert moved.status_code == 400 and "project" in moved.json()["validation_errors"]
    api.post("/api/dm/views/order", json={"project": pid, "ids": [managers["id"], mine["id"], foreign["id"]]})
    assert api.get(f"/api/dm/views/{foreign['id']}").json()["order"] == 0  # not moved to place 2
    assert [v["id"] for v in api.get("/api/dm/views", params={"project": pid}).json()] == [
        managers["id"],
        mine["id"],
    ]

    # Deleting: the author or a manager; resetting a project's views: managers.
    assert clients["b"].delete(f"/api/dm/views/{mine['id']}").status_code == 403
    assert clients["b"].delete("/api/dm/views/reset", params={"project": pid}).status_code == 403
    assert clients["a"].delete(f"/api/dm/views/{managers['id']}").status_code == 403
    assert clients["a"].delete(f"/api/dm/views/{mine['id']}").status_code == 204
    assert api.delete(f"/api/dm/views/{managers['id']}").status_code == 204
    assert api.get("/api/dm/views", params={"project": pid}).json() == []


def test_a_view_is_the_scope_of_the_task_list_and_of_actions(api):
    pid = create_project(api)["id"]
    texts = ("apple", "pear", "apple pie", "plum")
    ids = import_(api, pid, [{"data": {"text": t}} for t in texts])["task_ids"]
    apples = {"filter": "filter:tasks:data.text", "operator": "contains", "type": "String", "value": "apple"}
    view = create_view(api, pid, tab("Apples", [apples], ["-tasks:id"]))
    listed = api.get("/api/tasks", params={"project": pid, "view": view["id"]}).json()
    assert listed["total"] == 2 and [t["id"] for t in listed["tasks"]] == [ids[2], ids[0]]

    params = {"project": pid, "id": "delete_tasks", "view": view["id"]}
    deleted = api.post("/api/dm/actions", params=params)
    assert deleted.status_code == 200 and deleted.json()["processed_items"] == 2
    left = api.get("/api/tasks", params={"project": pid}).json()
    assert [t["id"] for t in left["tasks"]] == [ids[1], ids[3]]

    other = create_project(api)["id"]
    foreign = create_view(api, other, tab())
    assert api.get("/api/tasks", params={"project": pid, "view": foreign["id"]}).status_code == 404
