// A project's "Model" settings, as Label Studio 1.23 lays them out: the connected ML backends as cards
// (state, and the reason when it is ER), each with Edit, Send Test Request, Start Training and Delete; a
// Connect Model form with every field the API takes; the project's training switch and which model's
// predictions annotators see; and each backend's training runs (training-history.js), followed while a
// run is going.

import { api } from "../api.js";
import { h, status } from "../dom.js";
import { modelVersionSelect, projectModelVersions } from "../model-versions.js";
import { canManageModels } from "../roles.js";
import { heldOutAccuracy, running, trainingHistory } from "../training-history.js";
import { ago, duration, modal, poll, pretty, toggle } from "../widgets.js";

export const STATES = { CO: "Connected", DI: "Disconnected", ER: "Error", TR: "Training", PR: "Predicting" };
const WATCH_MS = 1500;

const field = (label, control, hint) => h("label", {}, label, control, hint ? h("small", { class: "muted hint" }, hint) : null);

/** The backend's state as a dot and a word (Label Studio's BackendState). */
export function stateBadge(backend) {
  return h("span", { class: "ml-state", "data-state": backend.state },
    h("span", { class: "indicator" }), STATES[backend.state] || backend.readable_state || backend.state);
}

export async function modelSettings(project, user) {
  if (!canManageModels(user)) return [h("p", { class: "status error" }, "Only managers and admins can connect models.")];
  const note = status();
  const cards = h("div", { class: "backend-cards", "data-testid": "backends" });
  const histories = h("div", { class: "histories" });
  const config = h("div");
  const page = h("div", { class: "model-settings" });
  let backends = [];
  let historyOf = new Map();

  async function load() {
    backends = await api("GET", `/api/ml?project=${project.id}`);
    draw();
    await Promise.all([...historyOf.values()].map((history) => history.refresh()));
    if (busy()) watch();
  }

  // After a dialog: the cards as they are now (a test may have put a backend in ER), no stale note.
  function reload() {
    note.set("");
    load().catch((error) => note.set(error.message, "error"));
  }

  const busy = () => backends.some((b) => b.state === "TR") || [...historyOf.values()].some((history) => running(history.runs));

  // While a backend trains or a run goes on, the page follows it: states, runs and the chart.
  function watch() {
    poll(page, WATCH_MS, async () => {
      const fresh = await api("GET", `/api/ml?project=${project.id}`);
      const changed = JSON.stringify(fresh.map(summary)) !== JSON.stringify(backends.map(summary));
      backends = fresh;
      if (changed) drawCards();
      await Promise.all([...historyOf.values()].map((history) => history.refresh()));
      return busy();
    });
  }

  const summary = (b) => [b.id, b.state, b.error_message, b.model_version, b.title];

  function draw() {
    drawCards();
    const known = new Map(historyOf);
    historyOf = new Map(backends.map((b) => [b.id, known.get(b.id) || trainingHistory(b)]));
    histories.replaceChildren(...(backends.length ? [h("h2", {}, "Training"), ...historyOf.values()] : []));
    drawConfig().catch((error) => note.set(error.message, "error"));
  }

  function drawCards() {
    if (!backends.length) {
      cards.replaceChildren(h("div", { class: "card empty-state", "data-testid": "no-models" },
        h("h2", {}, "Let’s connect your first model"),
        h("p", { class: "muted" }, "Connect a machine learning model to generate predictions. These predictions can be "
          + "compared side by side, used for efficient pre-labeling and, to aid in active learning, directing users to "
          + "the most impactful labeling tasks."),
        h("button", { class: "primary", type: "button", onclick: () => backendForm(null) }, "Connect Model")));
      return;
    }
    cards.replaceChildren(h("div", { class: "toolbar" }, h("span", { class: "spacer" }),
      h("button", { type: "button", class: "primary", onclick: () => backendForm(null) }, "Connect Model")),
    ...backends.map(card),
      h("p", { class: "muted" }, "To fetch predictions from a model: in the Data Manager, select tasks, then run ",
        h("em", {}, "Retrieve Predictions"), ". Which predictions annotators see is set below and under ",
        h("a", { href: `#/projects/${project.id}/settings/predictions` }, "Predictions"), "."));
  }

  function card(backend) {
    const menu = h("details", { class: "menu" },
      h("summary", { "aria-label": `Actions for ${backend.title || `model ${backend.id}`}`, title: "Actions" }, "⋯"),
      h("div", { class: "menu-list card" },
        item("Edit", () => backendForm(backend)),
        item("Send Test Request", () => testRequest(backend)),
        item("Start Training", () => startTraining(backend), backend.read_only
          ? "Another project owns this SageMaker endpoint: this backend predicts, it never trains." : null),
        h("hr"),
        item("Delete", () => confirmDelete(backend), null, "danger")));
    function item(label, run, disabledWhy = null, kind = "") {
      return h("button", { type: "button", class: kind, disabled: Boolean(disabledWhy), title: disabledWhy || "",
        onclick: () => { menu.open = false; run(); } }, label);
    }
    const where = backend.kind === "sagemaker"
      ? `SageMaker endpoint ${backend.endpoint_name}${backend.region ? ` (${backend.region})` : ""}` : backend.url;
    return h("article", { class: "card backend-card", "data-backend": backend.id, "data-state": backend.state },
      h("div", { class: "backend-head" }, stateBadge(backend), h("strong", { class: "backend-title" }, backend.title || `Model ${backend.id}`),
        backend.is_interactive ? h("span", { class: "chip" }, "interactive") : null,
        backend.read_only ? h("span", { class: "chip", title: "Another project owns this SageMaker endpoint" }, "read-only") : null,
        h("span", { class: "spacer" }), menu),
      h("div", { class: "backend-meta muted" },
        h("span", { class: "where", title: where }, where),
        h("span", {}, `Version ${backend.model_version || "(none reported)"}${backend.auto_update ? "" : " (pinned)"}`),
        h("span", { title: backend.created_at }, `Created ${ago(backend.created_at)}`)),
      backend.description ? h("p", { class: "backend-description" }, backend.description) : null,
      backend.error_message ? h("p", { class: "backend-error error", "data-testid": "backend-error" },
        h("strong", {}, backend.state === "ER" ? "Error: " : `${STATES[backend.state] || backend.state}: `),
        backend.error_message) : null);
  }

  // The Connect / Edit form: every field of Label Studio's, plus the kind, auto update and a pinned version.
  async function backendForm(backend) {
    const editing = Boolean(backend);
    const formNote = status();
    const kind = h("select", { name: "kind", disabled: editing },
      h("option", { value: "http" }, "Label Studio ML backend (a URL)"),
      h("option", { value: "sagemaker" }, "SageMaker endpoint"));
    kind.value = backend?.kind || "http";
    const title = h("input", { name: "title", required: true, maxlength: 500, value: backend?.title || "", placeholder: "Enter a name" });
    const url = h("input", { name: "url", type: "url", value: backend?.url || "", placeholder: "http://localhost:9090" });
    const endpoint = h("input", { name: "endpoint_name", value: backend?.endpoint_name || "" });
    const region = h("input", { name: "region", value: backend?.region || "", placeholder: "us-east-1" });
    const variant = h("input", { name: "target_variant", value: backend?.target_variant || "", placeholder: "optional" });
    const description = h("textarea", { name: "description", rows: 2, value: backend?.description || "" });
    const auth = h("select", { name: "auth_method" },
      h("option", { value: "NONE" }, "No Authentication"), h("option", { value: "BASIC_AUTH" }, "Basic Authentication"));
    auth.value = backend?.auth_method || "NONE";
    const user_ = h("input", { name: "basic_auth_user", value: backend?.basic_auth_user || "", autocomplete: "off" });
    const password = h("input", { name: "basic_auth_pass", type: "password", autocomplete: "new-password",
      placeholder: backend?.basic_auth_pass_is_set ? "******** (set: leave empty to keep it)" : "" });
    const extra = h("textarea", { name: "extra_params", rows: 4, class: "code",
      value: backend?.extra_params === null || backend?.extra_params === undefined || backend?.extra_params === ""
        ? "" : (typeof backend.extra_params === "string" ? backend.extra_params : pretty(backend.extra_params)) });
    const interactive = toggle("is_interactive", backend?.is_interactive ?? false, "Interactive preannotations",
      "If enabled some labeling tools will send requests to the ML Backend interactively during the annotation process.");
    const autoUpdate = toggle("auto_update", backend?.auto_update ?? true, "Follow the model's latest version",
      "The backend's version follows the one the model reports after each training; off, it stays on the version chosen below.");
    const version = h("select", { name: "model_version", "aria-label": "Model version" });
    const versionHint = h("small", { class: "muted hint" });
    const versionRow = editing ? field("Model version", version, versionHint) : null;
    const httpFields = h("div", {}, field("Backend URL", url));
    const sagemakerFields = h("div", { class: "pair" }, field("Endpoint name", endpoint), field("Region", region),
      field("Target variant", variant));
    const authFields = h("div", { class: "pair" }, field("Basic auth user", user_), field("Basic auth pass", password));
    const sync = () => {
      httpFields.hidden = kind.value !== "http";
      sagemakerFields.hidden = kind.value !== "sagemaker";
      authFields.hidden = auth.value !== "BASIC_AUTH";
      url.required = kind.value === "http";
      endpoint.required = kind.value === "sagemaker";
      version.disabled = autoUpdate.input.checked;
    };
    kind.addEventListener("change", sync);
    auth.addEventListener("change", sync);
    autoUpdate.input.addEventListener("change", sync);
    sync();
    if (editing) loadVersions(backend, version, versionHint);

    const submit = h("button", { class: "primary", type: "submit" }, "Validate and Save");
    const form = h("form", { class: "backend-form", onsubmit: async (event) => {
      event.preventDefault();
      let extraParams;
      try {
        extraParams = extra.value.trim() ? JSON.parse(extra.value) : null;
      } catch (error) {
        formNote.set(`Extra params: not JSON (${error.message}).`, "error");
        return;
      }
      const body = { title: title.value.trim(), description: description.value, auth_method: auth.value,
        is_interactive: interactive.input.checked, auto_update: autoUpdate.input.checked };
      if (kind.value === "http") body.url = url.value.trim();
      else Object.assign(body, { endpoint_name: endpoint.value.trim(), region: region.value.trim() || null,
        target_variant: variant.value.trim() || null });
      if (auth.value === "BASIC_AUTH") body.basic_auth_user = user_.value;
      if (password.value) body.basic_auth_pass = password.value;  // write-only: empty keeps the stored one
      if (extraParams !== null || (editing && backend.extra_params !== null && backend.extra_params !== "")) {
        body.extra_params = extraParams;
      }
      if (editing && !autoUpdate.input.checked && version.value && version.value !== backend.model_version) {
        body.model_version = version.value;
      }
      submit.disabled = true;
      formNote.set(editing ? "Connecting to the model and saving…" : "Connecting to the model…");
      try {
        if (editing) await api("PATCH", `/api/ml/${backend.id}`, body);
        else await api("POST", "/api/ml", { project: project.id, kind: kind.value, ...body });
        dialog.close();
        await load();
        note.set(editing ? "Saved." : "Connected.", "ok");
      } catch (error) {
        formNote.set(`Failed to ${editing ? "save" : "add new"} ML backend. ${error.message}`, "error");
      } finally {
        submit.disabled = false;
      }
    } },
    editing ? null : field("Kind", kind),
    field("Name", title), httpFields, sagemakerFields, field("Description", description),
    field("Select authentication method", auth), authFields,
    field("Any extra params to pass during model connection (JSON)", extra), interactive, autoUpdate, versionRow,
    h("div", { class: "toolbar spaced" }, submit), formNote);
    const dialog = modal(`${editing ? "Edit" : "Connect"} Model`, form, { testId: "model-form", wide: true });
    title.focus();
  }

  async function loadVersions(backend, select, hint) {
    try {
      const { versions, message } = await api("GET", `/api/ml/${backend.id}/versions`);
      const names = [...new Set([backend.model_version, ...versions].filter(Boolean))];
      select.replaceChildren(...names.map((name) => h("option", { value: name }, name)));
      select.value = backend.model_version || "";
      hint.textContent = message || `${versions.length} version(s) the model offers.`;
    } catch (error) {
      hint.textContent = `The model's versions could not be read: ${error.message}`;
    }
  }

  // Label Studio's "Send Test Request": one random task through /predict, the exchange shown whole.
  function testRequest(backend) {
    const requestPre = h("pre", { class: "code-block", "data-testid": "test-request" });
    const responsePre = h("pre", { class: "code-block", "data-testid": "test-response" });
    const outcome = status();
    const send = h("button", { type: "button", class: "primary", onclick: async () => {
      send.disabled = true;
      outcome.set("Sending…");
      try {
        const answer = await api("POST", `/api/ml/${backend.id}/predict/test?random=true`);
        requestPre.textContent = `POST ${answer.url}\n\n${pretty(answer.request)}`;
        responsePre.textContent = `${answer.status}\n\n${answer.error_message ? answer.error_message : pretty(answer.response)}`;
        const predicted = Array.isArray(answer.response) && answer.response.some((item) => [].concat(item)
          .some((prediction) => prediction?.result?.length));
        if (answer.status !== 200) outcome.set(`The model failed: ${answer.error_message}`, "error");
        else if (predicted) outcome.set("The model answered.", "ok");
        else outcome.set("The model answered, with no prediction for this task (an untrained model predicts nothing).", "warn");
      } catch (error) {
        outcome.set(error.message, "error");
      } finally {
        send.disabled = false;
      }
    } }, "Send Request");
    modal("Test Request", h("div", { class: "test-request" }, send,
      h("p", { class: "muted" }, "This sends a test request to the prediction endpoint of the ML Backend using a random task."),
      outcome, h("div", { class: "columns" }, h("div", {}, h("h3", {}, "Request"), requestPre),
        h("div", {}, h("h3", {}, "Response"), responsePre))), { testId: "test-request-dialog", wide: true, onClose: reload });
  }

  // "Start Training", and then the run it started, followed to its end.
  function startTraining(backend) {
    const progress = h("div", { class: "training-progress", "data-testid": "training-progress" });
    const outcome = status();
    const start = h("button", { type: "button", class: "primary", onclick: async () => {
      start.disabled = true;
      const history = historyOf.get(backend.id);
      const before = new Set((await history.refresh()).map((run) => run.id));
      try {
        await api("POST", `/api/ml/${backend.id}/train`);
      } catch (error) {
        outcome.set(error.message, "error");
        start.disabled = false;
        return;
      }
      outcome.set("Training started…");
      watch();
      poll(progress, WATCH_MS, async () => {
        const run = (await history.refresh()).find((r) => !before.has(r.id));
        if (!run) return true;
        drawRun(progress, run);
        if (run.status === "running") {
          outcome.set(`Training run #${run.id} is running…`);
          return true;
        }
        outcome.set(run.status === "completed" ? `Training run #${run.id} completed.` : `Training run #${run.id} failed.`,
          run.status === "completed" ? "ok" : "error");
        start.disabled = false;
        return false;
      });
    } }, "Start Training");
    modal("Start Model Training", h("div", {},
      h("p", { class: "muted" }, "You're about to manually trigger your model's training process. This action will "
        + "start the learning phase based on how the train method is implemented in the ML Backend. Its progress and "
        + "result show below and under Training."), start, outcome, progress), { testId: "training-dialog", wide: true, onClose: reload });
  }

  function drawRun(holder, run) {
    const accuracy = heldOutAccuracy(run);
    holder.replaceChildren(h("dl", { class: "facts" },
      h("dt", {}, "Run"), h("dd", {}, `#${run.id}`),
      h("dt", {}, "Status"), h("dd", { "data-testid": "run-status" }, run.status),
      h("dt", {}, "Duration"), h("dd", {}, duration(run.started_at, run.finished_at)),
      h("dt", {}, "Annotations"), h("dd", {}, run.annotations),
      run.model_version ? [h("dt", {}, "Model version"), h("dd", {}, run.model_version)] : null,
      accuracy !== null ? [h("dt", {}, "Held-out accuracy"), h("dd", {}, `${Math.round(accuracy * 1000) / 10}%`)] : null,
      Object.keys(run.metrics || {}).length ? [h("dt", {}, "Metrics"), h("dd", {}, h("pre", { class: "code-block" }, pretty(run.metrics)))] : null,
      run.error ? [h("dt", {}, "Error"), h("dd", { class: "error" }, run.error)] : null));
  }

  function confirmDelete(backend) {
    const dialog = modal("Delete ML Backend", h("div", {},
      h("p", {}, `Disconnect ${backend.title || `model ${backend.id}`} from this project? This action cannot be undone. `
        + "Its predictions stay."),
      h("div", { class: "toolbar" },
        h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
        h("button", { type: "button", class: "danger", onclick: async () => {
          try {
            await api("DELETE", `/api/ml/${backend.id}`);
            dialog.close();
            await load();
            note.set("Deleted.", "ok");
          } catch (error) { note.set(error.message, "error"); dialog.close(); }
        } }, "Delete"))), { testId: "delete-dialog" });
  }

  // The project's side: training on submission, and whose predictions annotators see. Drawn once there
  // are models, and not again while the page lives: a redraw would drop what the user is changing.
  async function drawConfig() {
    if (!backends.length) { config.replaceChildren(); return; }
    if (config.firstChild) return;
    const versions = await projectModelVersions(project.id);
    const train = toggle("start_training_on_annotation_update", project.start_training_on_annotation_update,
      "Start model training on annotation submission",
      "Each new annotation starts a training run of the project's models (one at a time per model): an active "
      + "learning loop. Training can also be started by hand from a model's menu.");
    const shown = modelVersionSelect(project, versions);
    const saved = status();
    config.replaceChildren(h("form", { class: "card", "data-testid": "model-config", oninput: () => saved.set(""),
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          Object.assign(project, await api("PATCH", `/api/projects/${project.id}`, {
            start_training_on_annotation_update: train.input.checked, model_version: shown.value }));
          saved.set("Saved.", "ok");
        } catch (error) { saved.set(error.message, "error"); }
      } }, h("h2", {}, "Configuration"), train,
    field("Predictions shown to annotators (a live model, or a model version's predictions)", shown),
    h("button", { class: "primary", type: "submit" }, "Save"), saved));
  }

  page.append(h("h2", {}, "Model"), note, cards, config, histories);
  await load();
  return [page];
}
