"""Authentication and project membership."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.test_projects import TEXT_CONFIG, create_project


def test_missing_and_bad_tokens_are_401(app, admin):
    with TestClient(app) as anonymous:
        response = anonymous.get("/api/projects")
        assert response.status_code == 401
        assert response.json()["detail"] == "Authentication credentials were not provided."
        bad = anonymous.get("/api/projects", headers={"Authorization": "Token nope"})
        assert bad.status_code == 401 and bad.json()["detail"] == "Invalid token."
        assert anonymous.get("/health").status_code == 200


def test_non_member_sees_404_for_the_project_and_everything_inside(api, make_user):
    project = create_project(api)
    task_ids = api.post(
        f"/api/projects/{project['id']}/import?return_task_ids=true", json=[{"text": "hello"}]
    ).json()["task_ids"]
    _, outsider = make_user("outsider@example.com", "annotator")
    pid, tid = project["id"], task_ids[0]
    for path in (
        f"/api/projects/{pid}",
        f"/api/tasks/{tid}",
        f"/api/tasks/{tid}/annotations",
        f"/api/tasks?project={pid}",
        f"/api/projects/{pid}/export?exportType=JSON",
        f"/api/predictions?task={tid}",
    ):
        response = outsider.get(path)
        assert response.status_code == 404, (path, response.text)
    assert outsider.get("/api/projects").json()["count"] == 0
    assert outsider.post(f"/api/tasks/{tid}/annotations", json={"result": []}).status_code == 404
    assert outsider.post(f"/api/projects/{pid}/import", json=[{"text": "x"}]).status_code == 404


def test_member_annotator_can_label_but_not_manage(api, make_user):
    project = create_project(api)
    tid = api.post(
        f"/api/projects/{project['id']}/import?return_task_ids=1", json=[{"text": "hello"}]
    ).json()["task_ids"][0]
    annotator_json, annotator = make_user("ann@example.com", "annotator")
    assert (
        api.post(f"/api/projects/{project['id']}/members", json={"user": annotator_json["id"]}).status_code
        == 201
    )
    assert annotator.get(f"/api/projects/{project['id']}").status_code == 200
    assert annotator.get("/api/projects").json()["count"] == 1
    result = [
        {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
    ]
    assert annotator.post(f"/api/tasks/{tid}/annotations", json={"result": result}).status_code == 201
    assert annotator.patch(f"/api/projects/{project['id']}", json={"title": "mine"}).status_code == 403
    assert (
        annotator.post("/api/projects", json={"title": "x", "label_config": TEXT_CONFIG}).status_code == 403
    )
    assert annotator.post(f"/api/projects/{project['id']}/import", json=[{"text": "x"}]).status_code == 403


def test_personal_access_token_refresh_flow(api, app):
    pat = api.post("/api/token").json()["token"]
    with TestClient(app) as client:
        access = client.post("/api/token/refresh/", json={"refresh": pat})
        assert access.status_code == 200
        bearer = {"Authorization": f"Bearer {access.json()['access']}"}
        assert client.get("/api/current-user/whoami", headers=bearer).json()["email"] == "admin@example.com"
        # A refresh token is not an access token.
        assert client.get("/api/projects", headers={"Authorization": f"Bearer {pat}"}).status_code == 401
        assert client.post("/api/token/refresh", json={"refresh": "garbage"}).status_code == 401


def test_reset_token_revokes_the_old_one(api, app):
    new = api.post("/api/current-user/reset-token").json()["token"]
    with TestClient(app) as client:
        assert client.get("/api/projects", headers={"Authorization": f"Token {new}"}).status_code == 200
        assert (
            client.get("/api/projects", headers={"Authorization": "Token admin-test-token"}).status_code
            == 401
        )
