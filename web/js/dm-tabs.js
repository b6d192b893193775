// The Data Manager's tabs: a project's saved views (/api/dm/views), each keeping its filters, ordering
// and hidden columns as Label Studio's Data Manager saves a tab. The tab shown is remembered per project
// (in the address, `?tab=<id>`, and in this browser), so a reload or a later visit opens it again.

import { api, query } from "./api.js";
import { h } from "./dom.js";

const REMEMBERED = (projectId) => `labelstack.dm-tab.${projectId}`;

/** The data of a view as the Data Manager page works on it (Label Studio's keys, with defaults). */
export function tabState(data = {}) {
  return {
    filters: data.filters?.items ? [...data.filters.items] : [],
    conjunction: data.filters?.conjunction || "and",
    ordering: Array.isArray(data.ordering) ? [...data.ordering] : [],
    hidden: new Set(data.hiddenColumns?.explore || []),
  };
}

/** The view's data with `state` in it; its title and the keys this page does not know stay as they were. */
function tabData(data, state) {
  return {
    ...data,
    filters: { conjunction: state.conjunction, items: state.filters },
    ordering: state.ordering,
    hiddenColumns: { ...(data.hiddenColumns || {}), explore: [...state.hidden], labeling: data.hiddenColumns?.labeling || [] },
  };
}

/**
 * The tab bar of a project's Data Manager. `onSelect(view)` runs when a tab is shown (first load too);
 * `save(state)` stores the current tab's filters, ordering and hidden columns.
 */
export async function dmTabs({ projectId, user, canManage, params, onSelect, onError }) {
  let views = await api("GET", `/api/dm/views?${query({ project: projectId })}`);
  if (!views.length) {
    // Label Studio's Data Manager makes the first tab itself when a project has none.
    views = [await api("POST", "/api/dm/views", { project: projectId, data: { title: "Default" } })];
  }
  const wanted = Number(params.get("tab") || localStorage.getItem(REMEMBERED(projectId)));
  let current = views.find((v) => v.id === wanted) || views[0];
  const bar = h("div", { class: "dm-tabs", role: "tablist", "data-testid": "dm-tabs" });

  function remember() {
    localStorage.setItem(REMEMBERED(projectId), String(current.id));
    // The address says which tab is shown (a reload opens it), without a new history entry or a re-render.
    history.replaceState(null, "", `#/projects/${projectId}?tab=${current.id}`);
  }

  function draw() {
    const mayDelete = (view) => views.length > 1 && (canManage || view.user === user.id);
    bar.replaceChildren(...views.map((view) => {
      const selected = view.id === current.id;
      const title = view.data?.title || "Tab";
      return h("div", { class: selected ? "dm-tab current" : "dm-tab", "data-view": view.id },
        h("button", { type: "button", role: "tab", "aria-selected": String(selected), class: "tab-title",
          onclick: () => select(view), ondblclick: () => rename(view) }, title),
        selected ? h("button", { type: "button", class: "icon", "aria-label": "Rename tab", title: "Rename",
          onclick: () => rename(view) }, "✎") : null,
        selected && mayDelete(view) ? h("button", { type: "button", class: "icon", "aria-label": "Delete tab",
          title: "Delete", onclick: () => remove(view) }, "×") : null);
    }), h("button", { type: "button", class: "icon add-tab", "aria-label": "Add tab", title: "Add a tab",
      onclick: add }, "+"));
  }

  async function guarded(work) {
    try { await work(); } catch (error) { onError(error); }
  }

  function select(view) {
    current = view;
    remember();
    draw();
    onSelect(current);
  }

  const add = () => guarded(async () => {
    const title = `Tab ${views.length + 1}`;
    const view = await api("POST", "/api/dm/views", { project: projectId, data: { title } });
    views.push(view);
    select(view);
  });

  // Renaming happens in place: the title becomes a field; Enter or leaving it saves, Escape cancels.
  function rename(view) {
    if (view.id !== current.id) return;
    const tab = bar.querySelector(`[data-view="${view.id}"] .tab-title`);
    const field = h("input", { class: "tab-rename", "aria-label": "Tab title", value: view.data?.title || "",
      maxlength: 256 });
    let done = false;
    const finish = (keep) => guarded(async () => {
      if (done) return;
      done = true;
      const title = field.value.trim();
      if (keep && title && title !== view.data?.title) {
        Object.assign(view, await api("PATCH", `/api/dm/views/${view.id}`, { data: { ...view.data, title } }));
      }
      draw();
    });
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter") finish(true);
      if (event.key === "Escape") finish(false);
    });
    field.addEventListener("blur", () => finish(true));
    tab.replaceWith(field);
    field.focus();
    field.select();
  }

  const remove = (view) => guarded(async () => {
    if (!window.confirm(`Delete the tab "${view.data?.title || "Tab"}"?`)) return;
    await api("DELETE", `/api/dm/views/${view.id}`);
    views = views.filter((v) => v.id !== view.id);
    select(views[0]);
  });

  // Saves go one after the other, so the last change is the one stored.
  let saving = Promise.resolve();

  remember();
  draw();
  return {
    element: bar,
    current: () => current,
    /** Store the shown tab's filters, ordering and hidden columns (the rest of its data stays). */
    save(state) {
      const view = current;
      const data = tabData(view.data || {}, state);
      view.data = data;
      saving = saving.then(() => guarded(async () => {
        Object.assign(view, await api("PATCH", `/api/dm/views/${view.id}`, { data }));
      }));
      return saving;
    },
  };
}
