// A project's tasks: a paged table filtered and sorted through the Data Manager query the API takes
// (functions/domain/task_query.py), in tabs that keep their filters, sort and hidden columns (dm-tabs.js),
// selection with actions, import (import-dialog.js) and export.

import { api, query } from "../api.js";
import { dmTabs, tabState } from "../dm-tabs.js";
import { h, show, status } from "../dom.js";
import { exportDialog } from "../export-dialog.js";
import { importDialog } from "../import-dialog.js";
import { dataCell, imageKeys } from "../media-cells.js";
import { reportRetrieval } from "../retrieve-predictions.js";
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
// The table's columns after the data ones: [Label Studio's column id, title, data-col, value of a task].
const COUNT_COLUMNS = [
  ["tasks:total_annotations", "Annotations", "annotations", (t) => t.total_annotations],
  ["tasks:cancelled_annotations", "Skipped", "skipped", (t) => t.cancelled_annotations],
  ["tasks:total_predictions", "Predictions", "predictions", (t) => t.total_predictions],
  ["tasks:predictions_score", "Prediction score", "score",
    (t) => (t.predictions_score === null || t.predictions_score === undefined ? "" : t.predictions_score.toFixed(2))],
];

export async function dataManagerPage({ user, params, args: [projectId] }) {
  const project = await api("GET", `/api/projects/${projectId}`);
  // Only the actions this user may run (the API lists no others).
  const actions = await api("GET", `/api/dm/actions?project=${projectId}`);
  const manager = canManage(user);
  const reviewer = canReview(user);
  const note = status();
  const tabs = await dmTabs({
    projectId: Number(projectId), user, canManage: manager, params,
    onSelect: (view) => { Object.assign(state, tabState(view.data), { page: 1 }); state.selected.clear(); refresh(); },
    onError: (error) => note.set(error.message, "error"),
  });
  const state = { ...tabState(tabs.current().data), page: 1, selected: new Set(), total: 0 };
  // The data columns: the config's inputs first, then any other key the tasks on screen carry.
  const dataKeys = Object.values(project.parsed_label_config || {}).flatMap((c) => c.inputs || [])
    .map((input) => input.value).filter((key, i, all) => key && all.indexOf(key) === i);
  const images = imageKeys(project.parsed_label_config);
  const table = h("table", { class: "tasks", "data-testid": "task-table" });
  const pager = h("div", { class: "pager" });
  const chips = h("div", { class: "chips" });
  const labelButtons = h("span", { class: "toolbar-group" });
  const ordering = h("select", { "aria-label": "Order by", onchange: () => {
    state.ordering = ordering.value ? [ordering.value] : [];
    changed();
  } }, ORDERINGS.map(([v, label]) => h("option", { value: v }, label)));
  const columnsMenu = h("details", { class: "columns-menu" });
  let shown = [];

  function dmQuery(selectedItems) {
    return {
      filters: state.filters.length ? { conjunction: state.conjunction, items: state.filters } : null,
      ordering: state.ordering,
      ...(selectedItems ? { selectedItems } : {}),
    };
  }

  // A change of filters, sort or columns: stored in the tab, and the table follows.
  function changed({ reload = true } = {}) {
    tabs.save(state);
    if (reload) { state.page = 1; refresh(); } else { drawControls(); drawTable(shown); }
  }

  function refresh() {
    drawControls();
    load();
  }

  async function load() {
    const params = { project: projectId, page: state.page, page_size: PAGE_SIZE, fields: "all" };
    if (state.filters.length || state.ordering.length) params.query = JSON.stringify(dmQuery());
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
    shown = body.tasks;
    drawTable(shown);
    const pages = Math.max(1, Math.ceil(body.total / PAGE_SIZE));
    pager.replaceChildren(
      h("button", { type: "button", disabled: state.page <= 1, onclick: () => { state.page -= 1; load(); } }, "Previous"),
      h("span", {}, `Page ${state.page} of ${pages} · ${body.total} tasks`),
      h("button", { type: "button", disabled: state.page >= pages, onclick: () => { state.page += 1; load(); } }, "Next"));
  }

  const visible = (id) => !state.hidden.has(id);

  function drawTable(tasks) {
    const allBox = h("input", { type: "checkbox", "aria-label": "Select page", onchange: () => {
      for (const task of tasks) allBox.checked ? state.selected.add(task.id) : state.selected.delete(task.id);
      drawTable(tasks);
    } });
    allBox.checked = tasks.length > 0 && tasks.every((t) => state.selected.has(t.id));
    const keys = dataKeys.filter((key) => visible(`tasks:data.${key}`));
    const counts = COUNT_COLUMNS.filter(([id]) => visible(id));
    table.replaceChildren(
      h("thead", {}, h("tr", {}, h("th", {}, allBox), visible("tasks:id") ? h("th", {}, "ID") : null,
        keys.map((key) => h("th", {}, key)), counts.map(([, title]) => h("th", {}, title)),
        reviewer ? h("th", {}, "Review") : null, h("th", {}, ""))),
      h("tbody", {}, tasks.map((task) => {
        const box = h("input", { type: "checkbox", "aria-label": `Select task ${task.id}`, checked: state.selected.has(task.id),
          onchange: () => (box.checked ? state.selected.add(task.id) : state.selected.delete(task.id)) });
        return h("tr", { "data-task": task.id },
          h("td", {}, box), visible("tasks:id") ? h("td", {}, task.id) : null,
          keys.map((key) => h("td", { class: "data" }, dataCell(task, key, images))),
          counts.map(([, , col, value]) => h("td", { class: "num", "data-col": col }, value(task))),
          reviewer ? reviewCell(task, load) : null,
          h("td", {}, h("a", { href: `#/projects/${projectId}/label?task=${task.id}` }, "Open")));
      })),
    );
  }

  // What depends on the tab: its filter chips, its sort, its hidden columns, and whether there is a
  // "displayed" order to label in.
  function drawControls() {
    chips.replaceChildren(...state.filters.map((f, i) => h("span", { class: "chip" },
      `${f.filter.replace("filter:tasks:", "")} ${f.operator} ${JSON.stringify(f.value)}`,
      h("button", { type: "button", "aria-label": "Remove filter", onclick: () => {
        state.filters.splice(i, 1); changed();
      } }, "×"))));
    ordering.value = state.ordering[0] || "";
    if (ordering.value !== (state.ordering[0] || "")) {
      // A sort this page does not offer (saved by another client): shown as it is.
      ordering.append(h("option", { value: state.ordering[0] }, state.ordering[0]));
      ordering.value = state.ordering[0];
    }
    const columns = [["tasks:id", "ID"], ...dataKeys.map((key) => [`tasks:data.${key}`, key]),
      ...COUNT_COLUMNS.map(([id, title]) => [id, title])];
    columnsMenu.replaceChildren(h("summary", {}, "Columns"), h("div", { class: "card columns-list" },
      columns.map(([id, title]) => h("label", { class: "inline" }, h("input", { type: "checkbox", checked: visible(id),
        "aria-label": `Show column ${title}`, onchange: (event) => {
          event.target.checked ? state.hidden.delete(id) : state.hidden.add(id);
          changed({ reload: false });
        } }), title))));
    const displayed = state.filters.length > 0 || state.ordering.length > 0;
    labelButtons.replaceChildren(...[
      h("a", { class: "button primary", href: `#/projects/${projectId}/label` }, "Label all tasks"),
      displayed ? h("a", { class: "button", href: `#/projects/${projectId}/label?view=${tabs.current().id}`,
        title: "Label the tasks of this tab, in its order" }, "Label tasks as displayed") : null,
    ].filter(Boolean));
  }

  function filterBar() {
    const column = h("select", { "aria-label": "Filter column" },
      FILTER_COLUMNS.map(([c, , label]) => h("option", { value: c }, label)),
      dataKeys.map((key) => h("option", { value: `data.${key}` }, `data.${key}`)));
    const operator = h("select", { "aria-label": "Filter operator" }, OPERATORS.map((o) => h("option", { value: o }, o)));
    const value = h("input", { "aria-label": "Filter value", size: 10 });
    const add = () => {
      const known = FILTER_COLUMNS.find(([c]) => c === column.value);
      const type = known ? known[1] : "String";
      let parsed = value.value;
      if (operator.value === "empty" || type === "Boolean") parsed = !["false", "0", "no", ""].includes(value.value.toLowerCase());
      else if (type === "Number") parsed = Number(value.value);
      state.filters.push({ filter: `filter:tasks:${column.value}`, operator: operator.value, type, value: parsed });
      changed();
    };
    return h("div", { class: "toolbar" }, h("span", {}, "Filter"), column, operator, value,
      h("button", { type: "button", onclick: add }, "Add filter"), h("span", {}, "Sort"), ordering, columnsMenu);
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
        state.selected.clear();
        drawTable(shown);
        // Retrieve Predictions says why nothing came back, and follows a background job to its end.
        if (action.value === "retrieve_tasks_predictions") await reportRetrieval(result, note);
        else note.set(result?.detail || `Done: ${action.selectedOptions[0].textContent}.`, "ok");
        load();
      } catch (error) { note.set(error.message, "error"); }
    };
    return h("div", { class: "toolbar" }, h("span", {}, "Selected tasks"), action,
      h("button", { type: "button", onclick: run }, "Run"));
  }

  await load();  // first, so the filter offers the data keys of the first page
  drawControls();
  show(
    projectTabs(project, "data", manager),
    // As in Label Studio's Data Manager: the tabs first, then what acts on the tab shown.
    tabs.element,
    h("div", { class: "toolbar" }, labelButtons,
      manager ? h("button", { type: "button", onclick: () => importDialog(project, load).showModal() }, "Import") : null,
      h("button", { type: "button", onclick: () => exportDialog(projectId) }, "Export"),
      manager ? h("button", { type: "button", onclick: () => snapshot(projectId, note) }, "Export snapshot (large projects)") : null,
      reviewer ? agreementSummary(projectId) : null),
    filterBar(), chips, actions.length ? actionBar() : null, note, table, pager,
  );
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
