"""The ML loop as a manager meets it in the web UI, on a real `labelstack dev` with its built-in model:
connect the model the banner prints, label, watch training runs finish with their held-out accuracy,
retrieve predictions for the rest (a background job, with progress), see them pre-filled in the label
stream and switch which model version annotators see; interactive suggestions from a span tagger while
labeling; a broken backend's reason where the manager looks.

This module runs its own `labelstack dev`: a retrieval of more than 8 tasks goes to the background there,
in batches of 4, so the Data Manager's progress can be watched on a small project."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import running_dev
from tests.ml.harness import BackendProcess
from tests.ml_endpoints.support import NER_CONFIG, SENTIMENT_CONFIG, model_server, reviews
from tests.web.conftest import END_OF_QUEUE, screenshot, sign_in

# Until the server's GET /api/projects/{id}/model-versions lands, the pages ask it, get a 404 and read the
# same lists from /api/ml and /api/predictions (model-versions.js).
MODEL_VERSIONS = (404, r"/api/projects/\d+/model-versions")
SUBMIT = "submit"


@pytest.fixture(scope="module")
def _ml_stack(tmp_path_factory):
    with running_dev(
        tmp_path_factory.mktemp("ml-loop-data"),
        LABELSTACK_ML_SYNC_PREDICT_LIMIT="8",
        LABELSTACK_ML_BATCH_SIZE="4",
    ) as started:
        yield started


@pytest.fixture(scope="module")
def local_stack(_ml_stack):
    return _ml_stack[0]


@pytest.fixture(scope="module")
def local_stack_banner(_ml_stack):
    return _ml_stack[1]


def _menu(page, title: str, item: str) -> None:
    page.get_by_label(f"Actions for {title}").click()
    page.locator("details.menu[open]").get_by_role("button", name=item).click()


def _connect(page, project_id: int, title: str, url: str, *, interactive: bool = False) -> None:
    page.goto(f"/#/projects/{project_id}/settings/models")
    page.get_by_test_id("no-models").wait_for()
    page.get_by_role("button", name="Connect Model").click()
    form = page.get_by_test_id("model-form")
    form.get_by_label("Name", exact=True).fill(title)
    form.get_by_label("Backend URL").fill(url)
    form.get_by_label("Description").fill("Connected from the web UI")
    if interactive:
        form.get_by_text("Interactive preannotations").click()
    form.get_by_role("button", name="Validate and Save").click()
    expect(form).to_have_count(0)
    expect(page.locator(".backend-card .backend-title", has_text=title)).to_be_visible()


def _current_task(page) -> int:
    return int(page.get_by_test_id("task-heading").get_attribute("data-task"))


def _submit(page) -> None:
    before = str(_current_task(page))
    page.get_by_role("button", name=SUBMIT, exact=True).click()
    page.wait_for_function(
        "before => { const h = document.querySelector('[data-testid=task-heading]');"
        " return (h && h.dataset.task && h.dataset.task !== before)"
        " || document.querySelector('[data-testid=no-more-tasks]'); }",
        arg=before,
    )


def _choice(page, value: str):
    return page.locator(".lsf-root label", has_text=value).first.locator("input")


def _prefilled(page) -> str | None:
    for label in ("Positive", "Negative"):
        if _choice(page, label).is_checked():
            return label
    return None


def _model_webhook(http, project_id: int, model_url: str) -> int:
    """The model learns from annotation events on its /webhook, as Label Studio wires it. The server
    makes that webhook when the backend connects; on a server that does not yet, the test makes it."""
    hooks = http.get("/api/webhooks", params={"project": project_id}).json()
    for hook in hooks:
        if hook["url"].rstrip("/") == f"{model_url}/webhook":
            return hook["id"]
    made = http.post(
        "/api/webhooks",
        json={
            "project": project_id,
            "url": f"{model_url}/webhook",
            "send_payload": True,
            "send_for_all_actions": True,
        },
    )
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _wait_for_the_model_to_hear(http, webhook_id: int, annotations: int) -> None:
    """Until the model has been sent every annotation (retries included). Each one it hears retrains it,
    which gives it a new version: a late one would make a later step's version differ from the one read."""
    deadline = time.monotonic() + 90
    while True:
        log = http.get(f"/api/webhooks/{webhook_id}/deliveries", params={"limit": 1000}).json()
        created = [d for d in log if d["action"] == "ANNOTATION_CREATED"]
        if len(created) >= annotations and all(d["status"] in ("delivered", "failed") for d in log):
            assert all(d["status"] == "delivered" for d in created), created
            return
        assert time.monotonic() < deadline, log
        time.sleep(0.5)


def test_connect_label_train_retrieve_and_choose_what_annotators_see(
    page, admin_http, local_stack_banner, expected
):
    expected.response(*MODEL_VERSIONS)
    model_url = local_stack_banner["ml backend"].split()[0]
    data = reviews(36, seed=5)
    project = admin_http.post(
        "/api/projects", json={"title": "Reviews with a model", "label_config": SENTIMENT_CONFIG}
    ).json()
    pid = project["id"]
    imported = admin_http.post(
        f"/api/projects/{pid}/import",
        params={"return_task_ids": "true"},
        json=[{"data": {"text": text}} for text, _ in data],
    ).json()["task_ids"]
    truth = dict(zip(imported, (label for _, label in data), strict=True))
    sign_in(page)

    # Connect the model the banner printed, with every field of the form that applies.
    _connect(page, pid, "Built-in classifier", model_url)
    card = page.locator(".backend-card").first
    expect(card.locator(".ml-state")).to_have_text("Connected")
    expect(card).to_contain_text(model_url)
    expect(card).to_contain_text("text_classifier-untrained")
    screenshot(page, "ml-01-model-connected")
    webhook = _model_webhook(admin_http, pid, model_url)

    # Send Test Request: the whole exchange, as Label Studio shows it.
    _menu(page, "Built-in classifier", "Send Test Request")
    dialog = page.get_by_test_id("test-request-dialog")
    dialog.get_by_role("button", name="Send Request").click()
    expect(dialog.locator(".status.warn")).to_contain_text("The model answered, with no prediction")
    expect(dialog.get_by_test_id("test-request")).to_contain_text(f"POST {model_url}/predict")
    expect(dialog.get_by_test_id("test-request")).to_contain_text('"label_config"')
    expect(dialog.get_by_test_id("test-response")).to_contain_text("200")
    screenshot(page, "ml-02-test-request")
    dialog.get_by_role("button", name="Close").click()

    # Train on every submitted annotation (the project's switch), then label 20 reviews.
    config = page.get_by_test_id("model-config")
    config.get_by_text("Start model training on annotation submission").click()
    config.get_by_role("button", name="Save").click()
    expect(config.get_by_text("Saved.")).to_be_visible()
    assert admin_http.get(f"/api/projects/{pid}").json()["start_training_on_annotation_update"] is True

    page.get_by_role("link", name="Label", exact=True).click()
    labeled = []
    for _ in range(20):
        page.get_by_role("button", name=SUBMIT, exact=True).wait_for()
        task = _current_task(page)
        _choice(page, truth[task]).check()
        expect(_choice(page, truth[task])).to_be_checked()
        _submit(page)
        labeled.append(task)
    assert len(set(labeled)) == 20
    screenshot(page, "ml-03-labeled")

    _wait_for_the_model_to_hear(admin_http, webhook, 20)

    # The runs the annotations started show in the Model tab, and it follows them until none is running.
    page.goto(f"/#/projects/{pid}/settings/models")
    history = page.locator(".training-history")
    expect(history.locator("tr[data-run]").first).to_be_visible(timeout=60_000)
    expect(history.locator("tr[data-status=running]")).to_have_count(0, timeout=120_000)
    assert all(
        run["trigger"] == "annotations"
        for run in admin_http.get(f"/api/ml/{_backend_id(admin_http, pid)}/trainings").json()
    )

    # Start Training by hand, and watch that run to its end with its result.
    _menu(page, "Built-in classifier", "Start Training")
    dialog = page.get_by_test_id("training-dialog")
    dialog.get_by_role("button", name="Start Training").click()
    expect(dialog.get_by_test_id("run-status")).to_have_text("completed", timeout=120_000)
    expect(dialog).to_contain_text("Held-out accuracy")
    screenshot(page, "ml-04-training-run")
    dialog.get_by_role("button", name="Close").click()
    backend_id = _backend_id(admin_http, pid)
    runs = admin_http.get(f"/api/ml/{backend_id}/trainings").json()
    manual = runs[0]
    assert manual["trigger"] == "manual" and manual["status"] == "completed"
    assert manual["annotations"] == 20 and manual["metrics"]["trained"] is True
    accuracy = manual["metrics"]["validation:accuracy"]
    # The history's row and the chart's last point say what the run recorded.
    row = history.locator(f"tr[data-run='{manual['id']}']")
    expect(row.locator(".run-status")).to_have_text("completed")
    expect(row).to_contain_text(f"{round(accuracy * 1000) / 10:g}%")
    points = history.get_by_test_id("accuracy-chart").locator("circle.point")
    assert points.count() == sum(1 for r in runs if "validation:accuracy" in r["metrics"])
    assert float(points.last.get_attribute("data-accuracy")) == accuracy
    version = admin_http.get(f"/api/ml/{backend_id}").json()["model_version"]
    assert version == manual["model_version"] != "text_classifier-untrained"
    expect(page.locator(".backend-card")).to_contain_text(version)
    screenshot(page, "ml-05-training-history")

    # Edit: the form comes filled in, the version it follows is offered, and a change is saved.
    _menu(page, "Built-in classifier", "Edit")
    form = page.get_by_test_id("model-form")
    expect(form.get_by_label("Name", exact=True)).to_have_value("Built-in classifier")
    expect(form.get_by_label("Model version")).to_have_value(version)
    form.get_by_label("Description").fill("Sentiment, trained from this project")
    form.get_by_role("button", name="Validate and Save").click()
    expect(form).to_have_count(0)
    expect(page.locator(".backend-card")).to_contain_text("Sentiment, trained from this project")

    # Retrieve predictions for the 16 unlabeled reviews: over 8 tasks, so a background job with progress.
    page.goto(f"/#/projects/{pid}")
    page.get_by_label("Filter column").select_option("total_annotations")
    page.get_by_label("Filter operator").select_option("equal")
    page.get_by_label("Filter value").fill("0")
    page.get_by_role("button", name="Add filter").click()
    page.get_by_text("Page 1 of 1 · 16 tasks").wait_for()
    page.get_by_label("Select page").check()
    page.get_by_label("Action").select_option("retrieve_tasks_predictions")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_test_id("retrieval-progress")).to_be_visible()
    screenshot(page, "ml-06-retrieval-progress")
    # (A task the stream opened may have its prediction already, where the server predicts on opening.)
    done = page.locator(".status.ok", has_text=re.compile(r"^Retrieved 1[56] predictions"))
    expect(done).to_be_visible(timeout=60_000)
    rest = [t for t in imported if t not in labeled]
    expect(page.locator("tr[data-task]")).to_have_count(16)
    expect(page.locator("tr[data-task] [data-col=predictions]", has_text=re.compile(r"^0$"))).to_have_count(0)
    screenshot(page, "ml-07-retrieved")

    # Retrieving again for three of them brings nothing, and says why.
    for task in rest[:3]:
        page.get_by_label(f"Select task {task}").check()
    page.get_by_label("Action").select_option("retrieve_tasks_predictions")
    page.get_by_role("button", name="Run").click()
    why = page.locator(".status.warn", has_text="Retrieved 0 predictions")
    expect(why).to_contain_text(f"3 tasks already had a prediction of model version {version}")
    screenshot(page, "ml-08-retrieval-why-not")

    # Another version's predictions for the same tasks: the opposite of the model's, imported.
    model_says = {}
    for task in rest:
        found = admin_http.get("/api/predictions", params={"task": task}).json()
        (prediction,) = [p for p in found if p["model_version"] == version]
        model_says[task] = prediction["result"][0]["value"]["choices"][0]
    opposite = {"Positive": "Negative", "Negative": "Positive"}
    imported_predictions = admin_http.post(
        f"/api/projects/{pid}/import/predictions",
        json=[
            {
                "task": task,
                "model_version": "rules-v1",
                "score": 0.5,
                "result": [
                    {
                        "from_name": "sentiment",
                        "to_name": "text",
                        "type": "choices",
                        "value": {"choices": [opposite[model_says[task]]]},
                    }
                ],
            }
            for task in rest
        ],
    )
    assert imported_predictions.status_code == 201, imported_predictions.text

    # The Predictions tab lists both versions; annotators see the live model's first, then rules-v1's.
    for selected, expect_from in (("Built-in classifier", model_says), ("rules-v1", None)):
        page.goto(f"/#/projects/{pid}/settings/predictions")
        versions = page.get_by_test_id("prediction-versions")
        expect(versions.locator(f"[data-version='{version}']")).to_contain_text("predictions")
        expect(versions.locator("[data-version='rules-v1']")).to_contain_text("16 predictions")
        form = page.get_by_test_id("prelabeling")
        form.get_by_label("Select which predictions or which model you want to use").select_option(selected)
        form.get_by_role("button", name="Save").click()
        expect(form.get_by_text("Saved.")).to_be_visible()
        assert admin_http.get(f"/api/projects/{pid}").json()["model_version"] == selected
        if selected == "rules-v1":
            screenshot(page, "ml-09-predictions-settings")
        page.goto(f"/#/projects/{pid}/label")
        page.get_by_role("button", name=SUBMIT, exact=True).wait_for()
        task = _current_task(page)
        assert task in rest
        want = model_says[task] if expect_from else opposite[model_says[task]]
        expect(_choice(page, want)).to_be_checked()
        assert _prefilled(page) == want
        screenshot(page, f"ml-10-stream-{'model' if expect_from else 'rules'}")


def _backend_id(http, project_id: int) -> int:
    (backend,) = http.get("/api/ml", params={"project": project_id}).json()
    return backend["id"]


def test_interactive_suggestions_while_labeling(page, admin_http, tmp_path, expected):
    expected.response(*MODEL_VERSIONS)
    expected.response(*END_OF_QUEUE)  # the one task submitted, the stream ends
    text = "Acme sells phones. Acme is big, and Acme grows."
    project = admin_http.post("/api/projects", json={"title": "Entities", "label_config": NER_CONFIG}).json()
    pid = project["id"]
    admin_http.post(f"/api/projects/{pid}/import", json=[{"data": {"text": text}}])
    with model_server("span_tagger", tmp_path) as tagger_url:
        sign_in(page)
        _connect(page, pid, "Span tagger", tagger_url, interactive=True)
        expect(page.locator(".backend-card .chip", has_text="interactive")).to_be_visible()

        page.get_by_role("link", name="Label", exact=True).click()
        page.get_by_role("button", name=SUBMIT, exact=True).wait_for()
        page.locator(".lsf-root").get_by_text("Auto-Annotation").click()
        page.locator(".lsf-root").get_by_text("ORG", exact=True).click()
        # Select the first "Acme" as an annotator does: a drag across the word.
        box = page.locator(".lsf-richtext__container").first.evaluate(
            """element => { const range = document.createRange();
                range.setStart(element.firstChild, 0); range.setEnd(element.firstChild, 4);
                const r = range.getBoundingClientRect();
                return {x: r.left, y: r.top + r.height / 2, width: r.width}; }"""
        )
        with page.expect_response(re.compile(r"/api/ml/\d+/interactive-annotating")) as answered:
            page.mouse.move(box["x"] + 0.5, box["y"])
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] - 0.5, box["y"], steps=5)
            page.mouse.up()
        assert len(answered.value.json()["data"]["result"]) == 3  # every "Acme", the drawn one too
        # The suggestions became regions: the other two occurrences, not the drawn one again.
        regions = page.locator(".lsf-richtext__container .htx-highlight")
        expect(regions).to_have_count(3)
        screenshot(page, "ml-11-interactive-suggestions")
        task = _current_task(page)
        _submit(page)
    (annotation,) = admin_http.get(f"/api/tasks/{task}/annotations").json()
    spans = sorted(
        (r["value"]["start"], r["value"]["end"], tuple(r["value"]["labels"])) for r in annotation["result"]
    )
    assert spans == [(0, 4, ("ORG",)), (19, 23, ("ORG",)), (36, 40, ("ORG",))]


def test_a_broken_backend_says_why_in_settings_and_the_data_manager(page, admin_http, tmp_path, expected):
    expected.response(*MODEL_VERSIONS)
    config = SENTIMENT_CONFIG.replace(
        '<Choice value="Negative"/>', '<Choice value="Negative"/><Choice value="Neutral"/>'
    )
    project = admin_http.post("/api/projects", json={"title": "Broken model", "label_config": config}).json()
    pid = project["id"]
    admin_http.post(f"/api/projects/{pid}/import", json=[{"data": {"text": f"review {i}"}} for i in range(3)])
    fault = BackendProcess("tests.ml.fault_backend", tmp_path)
    try:
        sign_in(page)
        # /health and /setup answer well, so it connects; /predict answers an HTML page.
        _connect(page, pid, "Flaky model", f"{fault.url}/html")
        _menu(page, "Flaky model", "Send Test Request")
        dialog = page.get_by_test_id("test-request-dialog")
        dialog.get_by_role("button", name="Send Request").click()
        expect(dialog.locator(".status.error")).to_contain_text("The model failed:")
        expect(dialog.get_by_test_id("test-response")).to_contain_text("500")
        dialog.get_by_role("button", name="Close").click()
        card = page.locator(".backend-card").first
        expect(card.locator(".ml-state")).to_have_text("Error")
        reason = admin_http.get("/api/ml", params={"project": pid}).json()[0]["error_message"]
        assert reason
        expect(card.get_by_test_id("backend-error")).to_contain_text(reason)
        screenshot(page, "ml-12-broken-backend")

        page.goto(f"/#/projects/{pid}")
        page.get_by_label("Select page").check()
        page.get_by_label("Action").select_option("retrieve_tasks_predictions")
        page.get_by_role("button", name="Run").click()
        failed = page.locator(".status.error", has_text="Retrieved 0 predictions: the ML backend failed:")
        expect(failed).to_be_visible()
        screenshot(page, "ml-13-retrieval-failed")

        # Delete, after a confirmation: the page is back to connecting a first model.
        page.goto(f"/#/projects/{pid}/settings/models")
        _menu(page, "Flaky model", "Delete")
        page.get_by_test_id("delete-dialog").get_by_role("button", name="Delete").click()
        page.get_by_test_id("no-models").wait_for()
        assert admin_http.get("/api/ml", params={"project": pid}).json() == []
    finally:
        fault.stop()


def test_connect_the_printed_sagemaker_endpoint(page, admin_http, local_stack_banner, expected):
    expected.response(*MODEL_VERSIONS)
    endpoint = re.search(r"SageMaker endpoint (\S+)", local_stack_banner["ml backend"]).group(1)
    project = admin_http.post(
        "/api/projects", json={"title": "Endpoint", "label_config": SENTIMENT_CONFIG}
    ).json()
    admin_http.post(f"/api/projects/{project['id']}/import", json=[{"data": {"text": "great phone"}}])
    sign_in(page)
    page.goto(f"/#/projects/{project['id']}/settings/models")
    page.get_by_role("button", name="Connect Model").click()
    form = page.get_by_test_id("model-form")
    form.get_by_label("Kind").select_option("sagemaker")
    expect(form.get_by_label("Backend URL")).to_be_hidden()
    form.get_by_label("Name", exact=True).fill("Endpoint model")
    form.get_by_label("Endpoint name").fill(endpoint)
    form.get_by_label("Region").fill("us-east-1")
    form.get_by_role("button", name="Validate and Save").click()
    card = page.locator(".backend-card")
    expect(card.locator(".ml-state")).to_have_text("Connected")
    expect(card).to_contain_text(f"SageMaker endpoint {endpoint} (us-east-1)")
    (backend,) = admin_http.get("/api/ml", params={"project": project["id"]}).json()
    assert (backend["kind"], backend["endpoint_name"], backend["region"]) == (
        "sagemaker",
        endpoint,
        "us-east-1",
    )
    screenshot(page, "ml-14-sagemaker-endpoint")
