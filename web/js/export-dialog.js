// The export dialog of the Data Manager, as Label Studio's "Export data": every format of the catalogue
// (GET /api/projects/{id}/export/formats), those this project cannot be exported in greyed out with the
// reason, and Export, which downloads the file (a plain GET with the session cookie, streamed to disk).

import { api, query } from "./api.js";
import { h, status } from "./dom.js";

/** Open the dialog for `projectId`. */
export async function exportDialog(projectId) {
  const note = status();
  let formats = [];
  try { formats = await api("GET", `/api/projects/${projectId}/export/formats`); } catch (error) { note.set(error.message, "error"); }
  let selected = formats.find((f) => !f.disabled)?.name;
  const allTasks = h("input", { type: "checkbox", name: "download_all_tasks" });
  const items = formats.map((format) => {
    const radio = h("input", { type: "radio", name: "exportType", value: format.name, "aria-label": format.title,
      disabled: Boolean(format.disabled),
      checked: format.name === selected, onchange: () => { selected = format.name; } });
    return h("label", { class: `export-format${format.disabled ? " disabled" : ""}`, "data-format": format.name },
      radio,
      h("span", { class: "export-format-text" },
        h("span", { class: "export-format-title" }, format.title,
          (format.tags || []).map((tag) => h("span", { class: "tag" }, tag))),
        format.description ? h("span", { class: "muted small" }, format.description) : null,
        format.disabled ? h("span", { class: "export-unavailable small" },
          `Not available for this project: ${format.disabled_reason || "its labeling interface does not fit this format."}`) : null));
  });

  const download = () => {
    if (!selected) { note.set("No format is available for this project.", "error"); return; }
    const params = { exportType: selected, download_all_tasks: allTasks.checked ? "true" : undefined };
    // A link the browser follows: the file streams to disk, however large, instead of into memory.
    const link = h("a", { href: `/api/projects/${projectId}/export?${query(params)}`, download: "" });
    document.body.append(link);
    link.click();
    link.remove();
    note.set(`Exporting ${selected}…`, "ok");
  };

  const dialog = h("dialog", { class: "card export-dialog", "data-testid": "export-dialog" },
    h("h2", {}, "Export data"),
    h("p", {}, "You can export dataset in one of the following formats:"),
    h("div", { class: "export-formats", role: "radiogroup", "aria-label": "Export format" }, items),
    h("label", { class: "inline" }, allTasks, "Include tasks without annotations"),
    note,
    h("div", { class: "toolbar spaced" },
      h("button", { type: "button", class: "primary", onclick: download }, "Export"),
      h("button", { type: "button", onclick: () => dialog.close() }, "Close")));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}
