// A project's tasks: a paged table filtered and sorted through the Data Manager query the API takes
// (functions/domain/task_query.py), selection with actions, import and export.

import { api, query, upload } from "../api.js";
import { h, preview, show, status } from "../dom.js";
import { exportDialog } from "../export-dialog.js";
import { agreementSummary, reviewCell } from "../review.js";
import { canManage, canReview } from "../roles.js";
import { projectTabs } from "./project-tabs.js";

const PAGE_SIZE = 25;
// Filterable columns: [column, Data Manager type, label].
const FILTER_COLUMNS = [
  ["id", "Number", "ID"], ["total_annotations", "Number", "Annotations"],
  ["cancelled_annotations", "Number", "Skipped"], ["total_predictions", "Number", "Predictions"],
  ["predictions_score", "Number", "Prediction score"], ["is_labeled", "Boolean", "Labeled"],
];
const OPERATORS = ["equal", "not_equal", "less", "greater", "less_or_equal", "greater_or_equal", "contains",
  "not_contains", "empty"];
const ORDERINGS = [["", "ID ascending"], ["-tasks:id", "ID descending"],
  ["tasks:predictions_score", "Prediction score ascending"], ["-tasks:predictions_score", "Prediction score descending"],
  ["-tasks:total_annotations", "Most annotations"], ["tasks:total_annotations", "Fewest annotations"]];

export async function dataManagerPage({ user, args: [projectId] }) {
  const project = await api("GET", `/api/projects/${projectId}`);
  // Only the actions this user may run (the API lists no others).
  const actions = await api("GET", `/api/dm/actions?project=${projectId}`);
  const manager = canManage(user);
  const reviewer = canReview(user);
  const state = { page: 1, filters: [], ordering: "", selected: new Set(), total: 0 };
  // The data columns: the config's inputs first, then any other key the tasks on screen carry.
  const dataKeys = Object.values(project.parsed_label_config || {}).flatMap((c) => c.inputs || [])
    .map((input) => input.value).filter((key, i, all) => key && all.indexOf(key) === i);
  const note = status();
  const table = h("table", { class: "tasks", "data-testid": "task-table" });
  const pager = h("div", { class: "pager" });
  const chips = h("div", { class: "chips" });

  function dmQuery(selectedItems) {
    return {
      filters: state.filters.length ? { conjunction: "and", items: state.filters } : null,
      ordering: state.ordering ? [state.ordering] : [],
      ...(selectedItems ? { selectedItems } : {}),
    };
  }

  async function load() {
    const params = { project: projectId, page: state.page, page_size: PAGE_SIZE, fields: "all" };
    if (state.filters.length || state.ordering) params.query = JSON.stringify(dmQuery());
    let body;
    try {
      body = await api("GET", `/api/tasks?${query(params)}`);
    } catch (error) {
      // Past the last page Label Studio answers 404; filters may shrink the result under the current page.
      if (error.status === 404 && state.page > 1) { state.page = 1; return load(); }
      if (error.status === 404) body = { tasks: [], total: 0 };
      else { note.set(error.message, "error"); return; }
    }
    state.total = body.total;
    for (const task of body.tasks) {
      for (const key of Object.keys(task.data || {})) {
        if (!dataKeys.includes(key) && dataKeys.length < 6) dataKeys.push(key);
      }
    }
    drawTable(body.tasks);
    const pages = Math.max(1, Math.ceil(body.total / PAGE_SIZE));
    pager.replaceChildren(
      h("button", { type: "button", disabled: state.page <= 1, onclick: () => { state.page -= 1; load(); } }, "Previous"),
      h("span", {}, `Page ${state.page} of ${pages} · ${body.total} tasks`),
      h("button", { type: "button", disabled: state.page >= pages, onclick: () => { state.page += 1; load(); } }, "Next"));
  }

  function drawTable(tasks) {
    const allBox = h("input", { type: "checkbox", "aria-label": "Select page", onchange: () => {
      for (const task of tasks) allBox.checked ? state.selected.add(task.id) : state.selected.delete(task.id);
      drawTable(tasks);
    } });
    allBox.checked = tasks.length > 0 && tasks.every((t) => state.selected.has(t.id));
    table.replaceChildren(
      h("thead", {}, h("tr", {}, h("th", {}, allBox), h("th", {}, "ID"),
        dataKeys.map((key) => h("th", {}, key)), h("th", {}, "Annotations"), h("th", {}, "Skipped"),
        h("th", {}, "Predictions"), h("th", {}, "Prediction score"), reviewer ? h("th", {}, "Review") : null,
        h("th", {}, ""))),
      h("tbody", {}, tasks.map((task) => {
        const box = h("input", { type: "checkbox", "aria-label": `Select task ${task.id}`, checked: state.selected.has(task.id),
          onchange: () => (box.checked ? state.selected.add(task.id) : state.selected.delete(task.id)) });
        return h("tr", { "data-task": task.id },
          h("td", {}, box), h("td", {}, task.id),
          dataKeys.map((key) => h("td", { class: "data" }, preview(task.data?.[key] ?? ""))),
          h("td", { class: "num", "data-col": "annotations" }, task.total_annotations),
          h("td", { class: "num", "data-col": "skipped" }, task.cancelled_annotations),
          h("td", { class: "num", "data-col": "predictions" }, task.total_predictions),
          h("td", { class: "num", "data-col": "score" },
            task.predictions_score === null || task.predictions_score === undefined ? "" : task.predictions_score.toFixed(2)),
          reviewer ? reviewCell(task, load) : null,
          h("td", {}, h("a", { href: `#/projects/${projectId}/label?task=${task.id}` }, "Open")));
      })),
    );
  }

  function filterBar() {
    const column = h("select", { "aria-label": "Filter column" },
      FILTER_COLUMNS.map(([c, , label]) => h("option", { value: c }, label)),
      dataKeys.map((key) => h("option", { value: `data.${key}` }, `data.${key}`)));
    const operator = h("select", { "aria-label": "Filter operator" }, OPERATORS.map((o) => h("option", { value: o }, o)));
    const value = h("input", { "aria-label": "Filter value", size: 10 });
    const ordering = h("select", { "aria-label": "Order by", onchange: () => { state.ordering = ordering.value; load(); } },
      ORDERINGS.map(([v, label]) => h("option", { value: v }, label)));
    const add = () => {
      const known = FILTER_COLUMNS.find(([c]) => c === column.value);
      const type = known ? known[1] : "String";
      let parsed = value.value;
      if (operator.value === "empty" || type === "Boolean") parsed = !["false", "0", "no", ""].includes(value.value.toLowerCase());
      else if (type === "Number") parsed = Number(value.value);
      state.filters.push({ filter: `filter:tasks:${column.value}`, operator: operator.value, type, value: parsed });
      state.page = 1;
      drawChips();
      load();
    };
    return h("div", { class: "toolbar" }, h("span", {}, "Filter"), column, operator, value,
      h("button", { type: "button", onclick: add }, "Add filter"), h("span", {}, "Sort"), ordering);
  }

  function drawChips() {
    chips.replaceChildren(...state.filters.map((f, i) => h("span", { class: "chip" },
      `${f.filter.replace("filter:tasks:", "")} ${f.operator} ${JSON.stringify(f.value)}`,
      h("button", { type: "button", "aria-label": "Remove filter", onclick: () => {
        state.filters.splice(i, 1); drawChips(); load();
      } }, "×"))));
  }

  function actionBar() {
    const action = h("select", { "aria-label": "Action" }, h("option", { value: "" }, "Choose an action"),
      actions.map((a) => h("option", { value: a.id }, a.title)));
    const run = async () => {
      if (!action.value) { note.set("Choose an action.", "error"); return; }
      if (!state.selected.size) { note.set("Select tasks first.", "error"); return; }
      if (action.value.startsWith("delete") && !window.confirm(`${action.selectedOptions[0].textContent}: ${state.selected.size} tasks?`)) return;
      try {
        const result = await api("POST", `/api/dm/actions?${query({ project: projectId, id: action.value })}`,
          dmQuery({ all: false, included: [...state.selected] }));
        // Retrieve Predictions answers 200 with the backend's failure in `error` (the detail says it).
        note.set(result?.detail || `Done: ${action.selectedOptions[0].textContent}.`, result?.error ? "error" : "ok");
        state.selected.clear();
        load();
      } catch (error) { note.set(error.message, "error"); }
    };
    return h("div", { class: "toolbar" }, h("span", {}, "Selected tasks"), action,
      h("button", { type: "button", onclick: run }, "Run"));
  }

  await load();  // first, so the filter offers the data keys of the first page
  show(
    projectTabs(project, "data", manager),
    h("div", { class: "toolbar" },
      h("a", { class: "button primary", href: `#/projects/${projectId}/label` }, "Label all tasks"),
      manager ? h("button", { type: "button", onclick: () => importDialog(projectId, load).showModal() }, "Import") : null,
      h("button", { type: "button", onclick: () => exportDialog(projectId) }, "Export"),
      manager ? h("button", { type: "button", onclick: () => snapshot(projectId, note) }, "Export snapshot (large projects)") : null,
      reviewer ? agreementSummary(projectId) : null),
    filterBar(), chips, actions.length ? actionBar() : null, note, table, pager,
  );
}

function importDialog(projectId, reload) {
  const note = status();
  const files = h("input", { type: "file", name: "file", multiple: true, accept: ".json,.jsonl,.csv,.tsv,.txt",
    "aria-label": "Task files" });
  const progress = h("progress", { max: 1, value: 0 });
  const dialog = h("dialog", { class: "card" },
    h("form", { method: "dialog", onsubmit: async (event) => {
      event.preventDefault();
      if (!files.files.length) { note.set("Choose a file (JSON, JSONL, CSV, TSV or TXT).", "error"); return; }
      const form = new FormData();
      for (const file of files.files) form.append(file.name, file);
      try {
        let result = await upload(`/api/projects/${projectId}/import`, form, (fraction) => { progress.value = fraction; });
        progress.value = 1;
        // Over the synchronous limit the API answers {import: id}: poll it until it ends.
        const importId = result.import;
        while (importId && !["completed", "failed"].includes(result.status)) {
          note.set("Importing in the background…");
          await new Promise((r) => setTimeout(r, 1000));
          result = await api("GET", `/api/projects/${projectId}/imports/${importId}`);
        }
        if (result.status === "failed") throw new Error(result.error || "Import failed.");
        note.set(`Imported ${result.task_count ?? result.task_ids?.length ?? 0} tasks.`, "ok");
        reload();
      } catch (error) { note.set(error.message, "error"); }
    } },
    h("h2", {}, "Import tasks"), files, progress, note,
    h("div", { class: "toolbar" }, h("button", { class: "primary", type: "submit" }, "Upload"),
      h("button", { type: "button", onclick: () => dialog.close() }, "Close"))));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  return dialog;
}

// A snapshot is built in the background into S3: the way to export a project too big for one response.
async function snapshot(projectId, note) {
  try {
    let snap = await api("POST", `/api/projects/${projectId}/exports`, { title: "UI snapshot" });
    while (!["completed", "failed"].includes(snap.status)) {
      note.set("Building the snapshot…");
      await new Promise((r) => setTimeout(r, 1000));
      snap = await api("GET", `/api/projects/${projectId}/exports/${snap.id}`);
    }
    if (snap.status === "failed") throw new Error("The snapshot failed.");
    note.replaceChildren(h("a", { href: `/api/projects/${projectId}/exports/${snap.id}/download?exportType=JSON` },
      `Download snapshot ${snap.id}`));
  } catch (error) { note.set(error.message, "error"); }
}
