import { h } from "../dom.js";

/** The project's title and its tabs: data, label, settings (settings for managers and admins). */
export function projectTabs(project, current, canManage) {
  const tab = (key, href, label) => h("a", { href, class: key === current ? "tab current" : "tab" }, label);
  return h("div", { class: "project-head" },
    h("h1", {}, project.title),
    h("nav", { class: "tabs" },
      tab("data", `#/projects/${project.id}`, "Data"),
      tab("label", `#/projects/${project.id}/label`, "Label"),
      canManage ? tab("settings", `#/projects/${project.id}/settings`, "Settings") : null));
}
