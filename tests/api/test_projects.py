"""Projects through the real FastAPI app, with DynamoDB emulated in-process."""

from __future__ import annotations

from functools import partial

from tests.api.parallel import in_parallel, reads_meet

TEXT_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>
  </Choices>
</View>"""


def create_project(api, **fields):
    response = api.post("/api/projects", json={"title": "p", "label_config": TEXT_CONFIG, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_returns_label_studio_shape(api):
    project = create_project(api, title="Reviews", description="d", color="#FF0000")
    assert project["title"] == "Reviews"
    assert project["color"] == "#FF0000"
    assert project["sampling"] == "Sequential sampling"
    assert project["maximum_annotations"] == 1
    assert project["parsed_label_config"]["sentiment"]["labels"] == ["Positive", "Negative", "Neutral"]
    assert project["control_weights"]["sentiment"]["labels"]["Neutral"] == 1.0
    assert project["created_by"]["email"] == "admin@example.com"
    assert project["task_number"] == 0


def test_both_path_forms_answer(api):
    project = create_project(api)
    assert api.get(f"/api/projects/{project['id']}").status_code == 200
    assert api.get(f"/api/projects/{project['id']}/").status_code == 200
    assert api.post("/api/projects/", json={"title": "slash", "label_config": TEXT_CONFIG}).status_code == 201


def test_title_over_50_chars_is_400_naming_title(api):
    response = api.post("/api/projects", json={"title": "x" * 51, "label_config": TEXT_CONFIG})
    assert response.status_code == 400
    body = response.json()
    assert body["validation_errors"] == {"title": ["Ensure this field has no more than 50 characters."]}
    assert body["status_code"] == 400 and body["detail"] == "Validation error"
    assert api.get("/api/projects").json()["count"] == 0


def test_invalid_label_config_is_400_naming_label_config(api):
    response = api.post(
        "/api/projects",
        json={
            "title": "t",
            "label_config": "<View><Choices name='c' toName='nope'><Choice value='a'/></Choices></View>",
        },
    )
    assert response.status_code == 400
    assert "label_config" in response.json()["validation_errors"]


def test_entity_expansion_is_rejected(api):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        '<View><Text name="text" value="$text"/><Header value="&lol2;"/></View>'
    )
    response = api.post("/api/projects", json={"title": "t", "label_config": bomb})
    assert response.status_code == 400
    assert "label_config" in response.json()["validation_errors"]
    external = (
        '<?xml version="1.0"?><!DOCTYPE v [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<View><Text name="text" value="$text"/><Header value="&x;"/></View>'
    )
    response = api.post("/api/projects", json={"title": "t", "label_config": external})
    assert response.status_code == 400


def test_malformed_json_is_400(api):
    response = api.post("/api/projects", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["validation_errors"]["non_field_errors"][0]


def test_patch_and_delete(api):
    project = create_project(api)
    response = api.patch(
        f"/api/projects/{project['id']}",
        json={"title": "renamed", "sampling": "Uniform sampling", "maximum_annotations": 3},
    )
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "renamed"
    assert api.get(f"/api/projects/{project['id']}").json()["sampling"] == "Uniform sampling"
    bad = api.patch(f"/api/projects/{project['id']}", json={"sampling": "Random"})
    assert bad.status_code == 400 and "sampling" in bad.json()["validation_errors"]
    assert api.delete(f"/api/projects/{project['id']}").status_code == 204
    assert api.get(f"/api/projects/{project['id']}").status_code == 404


def test_list_pages_and_404_past_the_end(api):
    for i in range(3):
        create_project(api, title=f"p{i}")
    page = api.get("/api/projects", params={"page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert [p["title"] for p in page["results"]] == ["p2", "p1"]
    assert len(api.get("/api/projects", params={"page_size": 2, "page": 2}).json()["results"]) == 1
    past = api.get("/api/projects", params={"page_size": 2, "page": 3})
    assert past.status_code == 404 and past.json()["detail"] == "Invalid page."


def test_validate_endpoint(api):
    project = create_project(api)
    ok = api.post(f"/api/projects/{project['id']}/validate", json={"label_config": TEXT_CONFIG})
    assert ok.status_code == 200 and ok.json()["data_keys"] == ["text"]
    bad = api.post(f"/api/projects/{project['id']}/validate", json={"label_config": "<View"})
    assert bad.status_code == 400


def test_version_health_whoami(api):
    assert api.get("/health").json() == {"status": "UP"}
    assert api.get("/api/version/").json()["edition"] == "Community"
    me = api.get("/api/current-user/whoami").json()
    assert me["email"] == "admin@example.com" and me["role"] == "admin"


# One change per PATCH, each of a different field, none the default.
PARALLEL_CHANGES = {
    "title": "renamed",
    "description": "described",
    "color": "#123456",
    "expert_instruction": "<b>look closely</b>",
    "show_instruction": True,
    "show_skip_button": False,
    "enable_empty_annotation": False,
    "show_annotation_history": True,
    "maximum_annotations": 3,
    "is_published": True,
    "model_version": "m-2",
    "is_draft": True,
    "min_annotations_to_start_training": 7,
    "start_training_on_annotation_update": True,
    "reveal_preannotations_interactively": True,
    "sampling": "Uniform sampling",
    "skip_queue": "IGNORE_SKIPPED",
    "show_ground_truth_first": True,
    "overlap_cohort_percentage": 50,
    "label_config": TEXT_CONFIG.replace('<Choice value="Neutral"/>', '<Choice value="Mixed"/>'),
}


def test_parallel_patches_without_a_version_all_land(api, monkeypatch):
    """Label Studio answers every one of these; none may be a 409, and none may undo another."""
    from functions.services import jobs
    from functions.store import projects as project_store

    pid = create_project(api)["id"]
    url = f"/api/projects/{pid}"
    # A model_version must be one some prediction carries (or an ML backend's title).
    [task_id] = api.post(
        f"{url}/import", params={"return_task_ids": "true"}, json=[{"data": {"text": "x"}}]
    ).json()["task_ids"]
    choice = {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
    assert api.post(
        "/api/predictions", json={"task": task_id, "model_version": "m-2", "result": [choice]}
    ).is_success
    submitted: list[str] = []
    monkeypatch.setattr(jobs, "submit", lambda kind, payload: submitted.append(kind))
    reads_meet(monkeypatch, project_store, "get", parties=len(PARALLEL_CHANGES))
    answers = in_parallel([partial(api.patch, url, json={k: v}) for k, v in PARALLEL_CHANGES.items()])
    assert [a.status_code for a in answers] == [200] * len(PARALLEL_CHANGES), [a.text for a in answers]
    got = api.get(url)
    stored = got.json()
    assert {k: stored[k] for k in PARALLEL_CHANGES} == PARALLEL_CHANGES
    # The label config's weights follow it: the new choice got one, the removed one lost its.
    assert set(stored["control_weights"]["sentiment"]["labels"]) == {"Positive", "Negative", "Mixed"}
    # maximum_annotations changed once: the label queue is refreshed once (a model version changed under
    # another sampling than Uncertainty rewrites no task).
    assert submitted == ["refresh_label_queue"]
    assert got.headers["ETag"] == f'"{len(PARALLEL_CHANGES)}"'
    assert sorted(int(a.headers["ETag"].strip('"')) for a in answers) == list(
        range(1, len(PARALLEL_CHANGES) + 1)
    )


def test_a_stated_version_must_be_current(api):
    url = f"/api/projects/{create_project(api)['id']}"
    read = api.get(url)
    assert read.headers["ETag"] == '"0"' and "version" not in read.json()
    first = api.patch(url, json={"color": "#111111"}, headers={"If-Match": read.headers["ETag"]})
    assert first.status_code == 200 and first.headers["ETag"] == '"1"'
    assert "version" not in first.json()  # the body keeps Label Studio's shape
    stale_header = api.patch(url, json={"color": "#222222"}, headers={"If-Match": read.headers["ETag"]})
    stale_body = api.patch(url, json={"color": "#333333", "title": "t2", "version": 0})
    for stale in (stale_header, stale_body):
        assert stale.status_code == 409 and "changed by someone else" in stale.json()["detail"]
    assert (api.get(url).json()["color"], api.get(url).json()["title"]) == ("#111111", "p")  # all or none
    current = api.patch(url, json={"description": "d", "title": "t3", "version": 1})
    assert current.status_code == 200 and current.headers["ETag"] == '"2"'
    assert api.patch(url, json={"color": "#444444"}, headers={"If-Match": 'W/"2"'}).status_code == 200
    assert api.patch(url, json={"color": "#555555"}, headers={"If-Match": "*"}).status_code == 200
    stored = api.get(url).json()
    assert (stored["description"], stored["title"], stored["color"]) == ("d", "t3", "#555555")
    bad = api.patch(url, json={"color": "#666666", "version": "2"})
    assert bad.status_code == 400 and "version" in bad.json()["validation_errors"]
    garbage = api.patch(url, json={"color": "#666666"}, headers={"If-Match": "abc"})
    assert garbage.status_code == 400 and "If-Match" in garbage.json()["validation_errors"]
    both = api.patch(url, json={"color": "#666666", "version": 4}, headers={"If-Match": '"3"'})
    assert both.status_code == 400
    assert api.get(url).json()["color"] == "#555555"


def test_a_label_config_change_derives_weights_from_the_stored_ones(api, monkeypatch):
    """The new config keeps the weights of surviving labels. When someone changes the weights between
    this PATCH's read and its write, the weights are derived again from theirs: neither change is lost."""
    from functions.store import projects as project_store

    project = create_project(api)
    url = f"/api/projects/{project['id']}"
    theirs = project["control_weights"]
    theirs["sentiment"]["labels"]["Positive"] = 2.0
    real_get = project_store.get
    interfered: list[int] = []

    def read_then_someone_else_writes(project_id, **kwargs):
        found = real_get(project_id, **kwargs)
        if not interfered:
            interfered.append(project_id)
            project_store.update_settings(project_id, {"control_weights": theirs})
        return found

    monkeypatch.setattr(project_store, "get", read_then_someone_else_writes)
    config = PARALLEL_CHANGES["label_config"]
    response = api.patch(url, json={"label_config": config})
    assert response.status_code == 200, response.text
    monkeypatch.setattr(project_store, "get", real_get)
    stored = api.get(url).json()
    assert stored["label_config"] == config
    assert stored["control_weights"]["sentiment"]["labels"] == {
        "Positive": 2.0,
        "Negative": 1.0,
        "Mixed": 1.0,
    }
    assert api.get(url).headers["ETag"] == '"2"'
