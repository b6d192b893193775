"""Annotation drafts through the real app: Label Studio's drafts API, drafts given back with the task, a
draft consumed by the annotation submitted from it, and who may see and change one."""

from __future__ import annotations

from tests.api.test_label_stream import labeling_project, next_of
from tests.api.test_tasks import CHOICE

NEGATIVE = [{**CHOICE[0], "value": {"choices": ["Negative"]}}]


def save_draft(client, task_id, result=CHOICE, **fields):
    response = client.post(f"/api/tasks/{task_id}/drafts", json={"result": result, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_draft_is_saved_changed_and_given_back_with_the_task(api, make_user):
    pid, _ids, c = labeling_project(api, make_user, 2)
    task = next_of(c["a"], pid)
    assert task["drafts"] == []
    draft = save_draft(c["a"], task["id"], lead_time=1.5)
    me = c["a"].get("/api/current-user/whoami").json()
    assert draft == {
        "id": draft["id"],
        "user": "a@example.com",
        "created_username": f" a@example.com, {me['id']}",
        "created_ago": draft["created_ago"],
        "result": CHOICE,
        "lead_time": 1.5,
        "was_postponed": False,
        "import_id": None,
        "created_at": draft["created_at"],
        "updated_at": draft["updated_at"],
        "task": task["id"],
        "annotation": None,
    }
    changed = c["a"].patch(f"/api/drafts/{draft['id']}", json={"result": NEGATIVE, "lead_time": 4.0})
    assert changed.status_code == 200, changed.text
    assert changed.json()["result"] == NEGATIVE and changed.json()["lead_time"] == 4.0
    assert c["a"].get(f"/api/drafts/{draft['id']}").json()["result"] == NEGATIVE

    # The held task comes back from /next with the draft, and so does GET /api/tasks/{id}.
    again = next_of(c["a"], pid)
    assert again["id"] == task["id"] and [d["result"] for d in again["drafts"]] == [NEGATIVE]
    assert [d["id"] for d in c["a"].get(f"/api/tasks/{task['id']}").json()["drafts"]] == [draft["id"]]
    # Only the caller's drafts come with a task.
    assert api.get(f"/api/tasks/{task['id']}").json()["drafts"] == []


def test_submitting_from_a_draft_removes_it(api, make_user):
    _pid, ids, c = labeling_project(api, make_user, 2)
    draft = save_draft(c["a"], ids[0])
    submitted = c["a"].post(
        f"/api/tasks/{ids[0]}/annotations", json={"result": NEGATIVE, "draft_id": draft["id"]}
    )
    assert submitted.status_code == 201, submitted.text
    assert c["a"].get(f"/api/drafts/{draft['id']}").status_code == 404
    assert c["a"].get(f"/api/tasks/{ids[0]}/drafts").json() == []

    # Someone else's draft, or a draft of another task, cannot be submitted from: 403, nothing written.
    others = save_draft(c["b"], ids[1])
    refused = c["a"].post(
        f"/api/tasks/{ids[1]}/annotations", json={"result": CHOICE, "draft_id": others["id"]}
    )
    assert refused.status_code == 403
    mine_elsewhere = save_draft(c["a"], ids[0])
    refused = c["a"].post(
        f"/api/tasks/{ids[1]}/annotations", json={"result": CHOICE, "draft_id": mine_elsewhere["id"]}
    )
    assert refused.status_code == 403
    assert api.get(f"/api/tasks/{ids[1]}").json()["total_annotations"] == 0
    assert c["b"].get(f"/api/drafts/{others['id']}").status_code == 200  # still there


def test_a_draft_of_a_submitted_annotation_goes_with_its_update_and_its_deletion(api, make_user):
    _pid, ids, c = labeling_project(api, make_user, 1)
    annotation = c["a"].post(f"/api/tasks/{ids[0]}/annotations", json={"result": CHOICE}).json()
    path = f"/api/tasks/{ids[0]}/annotations/{annotation['id']}/drafts"
    draft = c["a"].post(path, json={"result": NEGATIVE})
    assert draft.status_code == 201 and draft.json()["annotation"] == annotation["id"]
    assert [d["id"] for d in c["a"].get(path).json()] == [draft.json()["id"]]
    updated = c["a"].patch(
        f"/api/annotations/{annotation['id']}", json={"result": NEGATIVE, "draft_id": draft.json()["id"]}
    )
    assert updated.status_code == 200 and updated.json()["result"] == NEGATIVE
    assert c["a"].get(path).json() == []

    another = c["a"].post(path, json={"result": CHOICE}).json()
    assert c["a"].delete(f"/api/annotations/{annotation['id']}").status_code == 204
    assert c["a"].get(f"/api/drafts/{another['id']}").status_code == 404
    # An annotation of another task is not this task's.
    assert c["a"].post(f"/api/tasks/{ids[0]}/annotations/{10**9}/drafts", json={}).status_code == 404


def test_drafts_are_their_authors(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 1)
    _, reviewer = make_user("r@example.com", "reviewer")
    reviewer_id = next(u for u in api.get("/api/users").json() if u["email"] == "r@example.com")["id"]
    api.post(f"/api/projects/{pid}/members", json={"user": reviewer_id})
    _, outsider = make_user("out@example.com", "annotator")
    draft = save_draft(c["a"], ids[0])
    path = f"/api/drafts/{draft['id']}"

    # Another annotator sees neither the draft nor it in the task's list; a reviewer sees it, read-only.
    assert c["b"].get(path).status_code == 404
    assert c["b"].get(f"/api/tasks/{ids[0]}/drafts").json() == []
    assert reviewer.get(path).status_code == 200
    assert [d["id"] for d in reviewer.get(f"/api/tasks/{ids[0]}/drafts").json()] == [draft["id"]]
    assert reviewer.patch(path, json={"result": NEGATIVE}).status_code == 403
    assert reviewer.delete(path).status_code == 403
    assert outsider.get(path).status_code == 404
    assert outsider.get(f"/api/tasks/{ids[0]}/drafts").status_code == 404
    assert outsider.post(f"/api/tasks/{ids[0]}/drafts", json={"result": CHOICE}).status_code == 404
    assert c["b"].patch(path, json={"result": NEGATIVE}).status_code == 404
    # A manager may delete it; its author may change it.
    assert c["a"].put(path, json={"result": NEGATIVE}).json()["result"] == NEGATIVE
    assert api.delete(path).status_code == 204
    assert c["a"].get(path).status_code == 404


def test_a_bad_draft_is_a_400_naming_the_field(api, make_user):
    _pid, ids, c = labeling_project(api, make_user, 1)
    unknown = [{**CHOICE[0], "from_name": "nope"}]
    for body, field in [
        ({"result": "Positive"}, "result"),
        ({"result": unknown}, "result"),
        ({"result": CHOICE, "lead_time": "long"}, "lead_time"),
        ({"result": CHOICE, "was_postponed": "perhaps"}, "was_postponed"),
    ]:
        response = c["a"].post(f"/api/tasks/{ids[0]}/drafts", json=body)
        assert response.status_code == 400, (body, response.text)
        assert field in response.json()["validation_errors"], response.text
    assert c["a"].get(f"/api/tasks/{ids[0]}/drafts").json() == []


def test_deleting_a_task_or_a_project_removes_their_drafts_views_and_histories(api, make_user):
    from functions.services import cleanup
    from functions.store import dm_views as view_store
    from functions.store import drafts as draft_store
    from functions.store import stream_history as history_store

    pid, ids, c = labeling_project(api, make_user, 2)
    first = save_draft(c["a"], ids[0])
    assert api.delete(f"/api/tasks/{ids[0]}").status_code == 204
    assert c["a"].get(f"/api/drafts/{first['id']}").status_code == 404

    next_of(c["a"], pid)
    save_draft(c["a"], ids[1])
    api.post("/api/dm/views", json={"project": pid, "data": {"title": "t"}})
    user_id = c["a"].get("/api/current-user/whoami").json()["id"]
    assert history_store.entries(pid, user_id) and view_store.list_for_project(pid)
    cleanup.delete_project_contents(pid)
    assert draft_store.list_for_task(ids[1]) == []
    assert view_store.list_for_project(pid) == []
    assert history_store.entries(pid, user_id) == []
