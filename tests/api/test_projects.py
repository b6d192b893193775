"""Projects through the real FastAPI app, with DynamoDB emulated in-process."""

from __future__ import annotations

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
