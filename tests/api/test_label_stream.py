"""The label stream, /api/projects/{id}/next, through the real app: sampling, leases, overlap, skips."""

from __future__ import annotations

from functions.services import label_stream
from tests.api.test_projects import create_project
from tests.api.test_tasks import CHOICE, import_


def labeling_project(api, make_user, n_tasks, annotators=("a", "b"), predictions=None, **settings):
    project = create_project(api, **settings)
    tasks = [{"data": {"text": f"t{i}"}} for i in range(n_tasks)]
    for task, score in zip(tasks, predictions or [], strict=False):
        task["predictions"] = [{"model_version": "v1", "score": score, "result": CHOICE}]
    ids = import_(api, project["id"], tasks)["task_ids"]
    clients = {}
    for name in annotators:
        user, client = make_user(f"{name}@example.com", "annotator")
        assert (
            api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]}).status_code == 201
        )
        clients[name] = client
    return project["id"], ids, clients


def next_of(client, pid):
    response = client.get(f"/api/projects/{pid}/next")
    assert response.status_code in (200, 404), response.text
    return response.json() if response.status_code == 200 else None


def submit(client, task_id, **fields):
    response = client.post(f"/api/tasks/{task_id}/annotations", json={"result": CHOICE, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_sequential_leases_keep_annotators_apart_and_a_held_task_comes_back(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 3)
    first = next_of(c["a"], pid)
    assert first["id"] == ids[0] and first["queue"] == "Sequence queue" and first["data"] == {"text": "t0"}
    again = next_of(c["a"], pid)
    assert again["id"] == ids[0] and again["queue"] == "Task lock"
    assert next_of(c["b"], pid)["id"] == ids[1]
    submit(c["a"], ids[0])
    assert next_of(c["a"], pid)["id"] == ids[2]
    assert next_of(c["b"], pid)["id"] == ids[1]  # still b's
    submit(c["a"], ids[2])
    submit(c["b"], ids[1])
    assert next_of(c["a"], pid) is None and next_of(c["b"], pid) is None
    response = c["a"].get(f"/api/projects/{pid}/next")
    assert response.status_code == 404 and "no more tasks" in response.json()["detail"]
    project = api.get(f"/api/projects/{pid}").json()
    assert project["finished_task_number"] == 3 and project["total_annotations_number"] == 3


def test_overlap_hands_a_task_to_each_annotator_once_and_finishes_started_tasks_first(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 3, annotators=("a", "b", "c"), maximum_annotations=2)
    assert next_of(c["a"], pid)["id"] == ids[0]
    assert next_of(c["b"], pid)["id"] == ids[0]  # two places on task 0
    assert next_of(c["c"], pid)["id"] == ids[1]  # task 0 is full
    submit(c["a"], ids[0])
    assert next_of(c["a"], pid)["id"] == ids[1]  # not task 0 again; task 1 has a place left beside c
    submit(c["b"], ids[0])
    task = api.get(f"/api/tasks/{ids[0]}").json()
    assert task["is_labeled"] and task["total_annotations"] == 2


def test_breadth_first_prefers_tasks_others_started(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 3, annotators=("a", "b"), maximum_annotations=2)
    submit(c["a"], ids[1])  # a answers task 1 directly, without the stream
    assert next_of(c["b"], pid)["id"] == ids[1]


def test_skip_requeues_for_others_by_default(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 2)
    assert next_of(c["a"], pid)["id"] == ids[0]
    skip = c["a"].post(f"/api/tasks/{ids[0]}/annotations?was_cancelled=1", json={"result": []})
    assert skip.status_code == 201 and skip.json()["was_cancelled"] is True
    assert next_of(c["a"], pid)["id"] == ids[1]
    assert next_of(c["b"], pid)["id"] == ids[0]  # the skipped task goes to the others
    assert api.get(f"/api/tasks/{ids[0]}").json()["is_labeled"] is False


def test_requeue_for_me_brings_skipped_tasks_back_after_the_rest(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 2, skip_queue="REQUEUE_FOR_ME")
    assert next_of(c["a"], pid)["id"] == ids[0]
    submit(c["a"], ids[0], was_cancelled=True, result=[])
    assert next_of(c["b"], pid)["id"] == ids[1]  # a's skip still holds task 0 for a
    back = next_of(c["a"], pid)  # nothing else is free for a: the skipped task comes back
    assert back["id"] == ids[0] and back["queue"] == "Skipped queue"
    assert [a["was_cancelled"] for a in back["annotations"]] == [True]
    submit(c["a"], ids[0])
    assert api.get(f"/api/tasks/{ids[0]}").json()["is_labeled"] is True
    assert next_of(c["a"], pid) is None


def test_ignore_skipped_counts_a_skip_as_done(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 1, skip_queue="IGNORE_SKIPPED")
    submit(c["a"], ids[0], was_cancelled=True, result=[])
    assert api.get(f"/api/tasks/{ids[0]}").json()["is_labeled"] is True
    assert next_of(c["b"], pid) is None


def test_skip_is_refused_when_the_project_hides_the_skip_button(api, make_user):
    _, ids, c = labeling_project(api, make_user, 1, show_skip_button=False)
    response = c["a"].post(f"/api/tasks/{ids[0]}/annotations", json={"result": [], "was_cancelled": True})
    assert response.status_code == 400 and "was_cancelled" in response.json()["validation_errors"]


def test_an_expired_lease_frees_the_task(api, make_user, monkeypatch):
    pid, ids, c = labeling_project(api, make_user, 1)
    assert next_of(c["a"], pid)["id"] == ids[0]
    assert next_of(c["b"], pid) is None
    later = label_stream.time.time() + 2 * 86_400
    monkeypatch.setattr(label_stream.time, "time", lambda: later)
    assert next_of(c["b"], pid)["id"] == ids[0]
    assert next_of(c["a"], pid) is None  # b holds it now


def test_uniform_sampling_serves_every_task_once_in_a_shuffled_order(api, make_user):
    pid, ids, c = labeling_project(api, make_user, 30, annotators=("a",), sampling="Uniform sampling")
    served = []
    while (task := next_of(c["a"], pid)) is not None:
        assert task["queue"] == "Uniform random queue"
        served.append(task["id"])
        submit(c["a"], task["id"])
    assert sorted(served) == ids and served != ids


def test_uncertainty_sampling_serves_least_certain_first_then_falls_back_to_random(api, make_user):
    scores = [0.9, 0.2, 0.5, 0.7]
    pid, ids, c = labeling_project(
        api,
        make_user,
        5,
        annotators=("a",),
        predictions=scores,
        sampling="Uncertainty sampling",
        model_version="v1",
    )
    served = []
    while (task := next_of(c["a"], pid)) is not None:
        served.append((task["id"], task["queue"]))
        assert task["predictions"] or task["id"] == ids[4]
        submit(c["a"], task["id"])
    assert [t for t, _ in served[:4]] == [ids[1], ids[2], ids[3], ids[0]]
    assert served[4] == (ids[4], "Uniform random queue")  # no prediction: the random fallback


def test_a_new_prediction_moves_a_task_in_the_uncertainty_order(api, make_user):
    pid, ids, c = labeling_project(
        api,
        make_user,
        2,
        annotators=("a",),
        predictions=[0.4, 0.6],
        sampling="Uncertainty sampling",
        model_version="v2",
    )
    response = api.post(
        "/api/predictions", json={"task": ids[1], "result": CHOICE, "score": 0.1, "model_version": "v2"}
    )
    assert response.status_code == 201
    # Only task 1 has a v2 prediction; task 0 comes by the random fallback after it.
    assert next_of(c["a"], pid)["id"] == ids[1]


def test_non_members_cannot_use_the_stream(api, make_user):
    pid, _, _ = labeling_project(api, make_user, 1, annotators=())
    _, outsider = make_user("x@example.com", "annotator")
    assert outsider.get(f"/api/projects/{pid}/next").status_code == 404


def test_raising_maximum_annotations_puts_labeled_tasks_back_in_the_stream(api, make_user, monkeypatch):
    from functions.services import jobs

    pid, ids, c = labeling_project(api, make_user, 1)
    submit(c["a"], ids[0])
    assert next_of(c["b"], pid) is None
    # The PATCH starts the refresh as a background job; run it inline so the test can look at the result.
    monkeypatch.setattr(jobs, "submit", jobs.run)
    assert api.patch(f"/api/projects/{pid}", json={"maximum_annotations": 2}).status_code == 200
    assert api.get(f"/api/projects/{pid}").json()["finished_task_number"] == 0
    assert next_of(c["b"], pid)["id"] == ids[0]
    submit(c["b"], ids[0])
    assert api.get(f"/api/projects/{pid}").json()["finished_task_number"] == 1
