// Project settings for managers and admins. Cloud storage, webhooks, the Model and the Predictions
// sections have modules of their own.

import { api } from "../api.js";
import { configEditor } from "../config-editor.js";
import { h, show, status } from "../dom.js";
import { sanitizedHtml } from "../html.js";
import { inviteForm } from "../invites.js";
import { canManage } from "../roles.js";
import { modelSettings } from "./model-settings.js";
import { predictionSettings } from "./prediction-settings.js";
import { projectTabs } from "./project-tabs.js";
import { storageSettings } from "./storage-settings.js";
import { webhookSettings } from "./webhook-settings.js";

const SECTIONS = [
  ["general", "General"], ["labeling", "Labeling interface"], ["instructions", "Instructions"],
  ["annotation", "Annotation"], ["models", "Model"], ["predictions", "Predictions"], ["members", "Members"],
  ["storage", "Cloud Storage"], ["webhooks", "Webhooks"], ["danger", "Danger zone"],
];
const SAMPLING = ["Sequential sampling", "Uniform sampling", "Uncertainty sampling"];

export async function settingsPage({ user, args: [projectId, section = "general"] }) {
  const project = await api("GET", `/api/projects/${projectId}`);
  if (!canManage(user)) {
    // No link leads here for other roles; a typed URL gets a plain answer, not forms that would be refused.
    show(projectTabs(project, "settings", false), h("p", { class: "status error", "data-testid": "not-allowed" },
      "Only managers and admins can change a project's settings."));
    return;
  }
  const draw = SECTION_PAGES[section] || SECTION_PAGES.general;
  const nav = h("nav", { class: "side" }, SECTIONS.map(([key, label]) => h("a", {
    href: `#/projects/${projectId}/settings/${key}`, class: key === section ? "current" : "",
  }, label)));
  const body = h("div", { class: "settings-body" });
  show(projectTabs(project, "settings", true), h("div", { class: "settings" }, nav, body));
  body.replaceChildren(...await draw(project, user));
  body.dataset.section = section;
}

/** A form whose fields map to project attributes; `read()` gives the PATCH body. */
function projectForm(project, fields, read) {
  const note = status();
  // Any edit makes an earlier "Saved." stale: it goes, so it never sits under a newer error.
  return h("form", { class: "card", oninput: () => note.set(""), onsubmit: async (event) => {
    event.preventDefault();
    try {
      Object.assign(project, await api("PATCH", `/api/projects/${project.id}`, read()));
      note.set("Saved.", "ok");
    } catch (error) { note.set(error.message, "error"); }
  } }, ...fields, h("button", { class: "primary", type: "submit" }, "Save"), note);
}

const input = (name, value, attrs = {}) => h("input", { name, value: value ?? "", ...attrs });
const checkbox = (name, checked) => h("input", { type: "checkbox", name, checked });

const SECTION_PAGES = {
  storage: storageSettings,
  webhooks: webhookSettings,

  general(project) {
    const title = input("title", project.title, { maxlength: 50, required: true });
    const description = h("textarea", { name: "description", rows: 3, value: project.description });
    const color = input("color", project.color || "#ffffff", { type: "color" });
    const sampling = h("select", { name: "sampling" }, SAMPLING.map((s) => h("option", { value: s }, s)));
    sampling.value = project.sampling;
    return [projectForm(project, [
      h("label", {}, "Title", title), h("label", {}, "Description", description),
      h("label", {}, "Color", color), h("label", {}, "Task sampling", sampling),
    ], () => ({ title: title.value, description: description.value, color: color.value, sampling: sampling.value }))];
  },

  labeling(project, user) {
    const editor = configEditor(user, project.label_config);
    return [projectForm(project, [editor.element], () => ({ label_config: editor.value() }))];
  },

  instructions(project) {
    const preview = h("div", { class: "prose instructions-preview", "data-testid": "instructions-preview" });
    const render = () => preview.replaceChildren(sanitizedHtml(text.value));
    const text = h("textarea", { name: "expert_instruction", rows: 8, value: project.expert_instruction,
      class: "code", oninput: render });
    const showFirst = checkbox("show_instruction", project.show_instruction);
    render();
    return [projectForm(project, [
      h("label", {}, "Instructions for annotators (HTML: formatting, links and images are kept; scripts are removed)",
        text),
      h("div", { class: "field" }, h("span", { class: "muted" }, "As annotators see them"), preview),
      h("label", { class: "inline" }, showFirst, "Show the instructions before labeling"),
    ], () => ({ expert_instruction: text.value, show_instruction: showFirst.checked }))];
  },

  annotation(project) {
    const maximum = input("maximum_annotations", project.maximum_annotations, { type: "number", min: 1 });
    const overlap = input("overlap_cohort_percentage", project.overlap_cohort_percentage,
      { type: "number", min: 0, max: 100 });
    const skip = checkbox("show_skip_button", project.show_skip_button);
    return [projectForm(project, [
      h("label", {}, "Annotations per task (overlap)", maximum),
      h("label", {}, "Share of tasks with that overlap (%)", overlap),
      h("label", { class: "inline" }, skip, "Annotators may skip tasks"),
    ], () => ({ maximum_annotations: Number(maximum.value), overlap_cohort_percentage: Number(overlap.value),
      show_skip_button: skip.checked }))];
  },

  models: modelSettings,
  predictions: predictionSettings,

  async members(project, user) {
    const note = status();
    const members = await api("GET", `/api/projects/${project.id}/members`);
    const users = await api("GET", "/api/users").catch(() => []);
    const memberIds = new Set(members.map((m) => m.user.id));
    const candidates = users.filter((u) => !memberIds.has(u.id));
    const choice = h("select", { name: "user", "aria-label": "User" },
      candidates.map((u) => h("option", { value: u.id }, `${u.email} (${u.role})`)));
    return [
      h("section", { class: "card" }, h("h2", {}, "Members"), h("ul", { class: "plain", "data-testid": "members" },
        members.map(({ user: m }) => h("li", {}, `${m.email} (${m.role}) `, h("button", { type: "button", onclick: async () => {
          try { await api("DELETE", `/api/projects/${project.id}/members/${m.id}`); location.reload(); } catch (e) { note.set(e.message, "error"); }
        } }, "Remove")))), note),
      h("form", { class: "card", onsubmit: async (event) => {
        event.preventDefault();
        try { await api("POST", `/api/projects/${project.id}/members`, { user: Number(choice.value) }); location.reload(); } catch (e) { note.set(e.message, "error"); }
      } }, h("h2", {}, "Add a member"),
      // With nobody left to add there is nothing to choose: a message, not a form that cannot work.
      candidates.length ? h("div", { class: "toolbar" }, choice, h("button", { class: "primary", type: "submit" }, "Add"))
        : h("p", { class: "muted", "data-testid": "no-candidates" },
          "Every user is already a member: invite someone new below.")),
      inviteForm(user, project.id),
    ];
  },

  danger(project) {
    const note = status();
    const confirmTitle = input("confirm", "", { "aria-label": "Type the project title to confirm" });
    return [h("form", { class: "card danger", onsubmit: async (event) => {
      event.preventDefault();
      if (confirmTitle.value !== project.title) { note.set("Type the project's title to confirm.", "error"); return; }
      try { await api("DELETE", `/api/projects/${project.id}`); location.hash = "#/projects"; } catch (e) { note.set(e.message, "error"); }
    } }, h("h2", {}, "Delete this project"),
    h("p", {}, "Deletes the project with all its tasks, annotations and predictions. This cannot be undone."),
    h("label", {}, `Type "${project.title}" to confirm`, confirmTitle),
    h("button", { class: "danger", type: "submit" }, "Delete project"), note)];
  },
};
