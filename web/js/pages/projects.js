import { api } from "../api.js";
import { configEditor } from "../config-editor.js";
import { h, show, status } from "../dom.js";
import { canManage } from "../roles.js";
import { TEMPLATES } from "../templates.js";

export async function projectsPage({ user }) {
  const { results } = await api("GET", "/api/projects?page_size=1000");
  const list = results.length
    ? h("ul", { class: "project-list" }, results.map((p) => h("li", { class: "card project" },
      swatch(p.color),
      h("a", { href: `#/projects/${p.id}`, class: "title" }, p.title),
      h("span", { class: "muted" }, `${p.task_number} tasks · ${p.num_tasks_with_annotations} labeled · `
        + `${p.total_predictions_number} predictions`),
      h("a", { href: `#/projects/${p.id}/label`, class: "button" }, "Label"))))
    : h("p", { class: "muted" }, canManage(user) ? "No projects yet."
      : "No projects yet: a manager adds you to a project, and it shows here.");
  show(h("h1", {}, "Projects"), list, canManage(user) ? createForm(user) : null);
}

export function swatch(color) {
  const el = h("span", { class: "swatch" });
  el.style.background = color || "#ccc";  // through CSSOM: no inline style attribute for the CSP to refuse
  return el;
}

function createForm(user) {
  const note = status();
  const title = h("input", { name: "title", required: true, maxlength: 50, "aria-label": "Project title" });
  const description = h("textarea", { name: "description", rows: 2, "aria-label": "Description" });
  const editor = configEditor(user, TEMPLATES[0].config, TEMPLATES[0].sample);
  const template = h("select", { name: "template", "aria-label": "Template", onchange: () => {
    const chosen = TEMPLATES[Number(template.value)];
    editor.setConfig(chosen.config, chosen.sample);
  } }, TEMPLATES.map((t, i) => h("option", { value: i }, t.name)));
  return h("form", { class: "card", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const project = await api("POST", "/api/projects", {
        title: title.value, description: description.value, label_config: editor.value(),
      });
      location.hash = `#/projects/${project.id}`;
    } catch (error) {
      note.set(error.message, "error");
    }
  } },
  h("h2", {}, "Create a project"),
  h("label", {}, "Title", title),
  h("label", {}, "Description", description),
  h("label", {}, "Template", template),
  editor.element,
  h("button", { class: "primary", type: "submit" }, "Create project"),
  note);
}
