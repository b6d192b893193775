// The label stream: the next task from /next (or one task, `?task=ID`, from the data manager), shown in
// the Label Studio Frontend with the selected model version's prediction pre-filled.

import { api } from "../api.js";
import { h, show, status } from "../dom.js";
import { sanitizedHtml } from "../html.js";
import { mountLabelStudio } from "../lsf.js";
import { reviewPanel } from "../review.js";
import { authorOf, canChangeOthersAnnotations, canManage, canReview } from "../roles.js";
import { projectTabs } from "./project-tabs.js";

export async function labelPage({ user, params, args: [projectId] }) {
  const project = await api("GET", `/api/projects/${projectId}`);
  const note = status();
  const holder = h("div", { class: "labeling", "data-testid": "labeling" });
  const heading = h("span", { class: "muted", "data-testid": "task-heading" });
  const reviews = h("div", { class: "reviews" });  // the review panel, for those who may review
  const hasInstructions = Boolean(project.expert_instruction?.trim());
  const singleTask = params.get("task");
  // Annotation versions, for PATCH's optimistic concurrency (a stale version is a 409, not a lost edit).
  const versions = new Map();
  let startedAt = 0;

  async function open() {
    note.set("");
    let task;
    try {
      task = singleTask ? await api("GET", `/api/tasks/${singleTask}`) : await api("GET", `/api/projects/${projectId}/next`);
    } catch (error) {
      if (error.status !== 404 || singleTask) throw error;
      heading.textContent = "";
      reviews.replaceChildren();
      holder.replaceChildren(h("div", { class: "card done", "data-testid": "no-more-tasks" },
        h("h2", {}, "All done"), h("p", {}, error.message), h("a", { href: `#/projects/${projectId}` }, "Back to the data")));
      return;
    }
    for (const a of task.annotations || []) versions.set(a.id, a.version);
    heading.textContent = `Task ${task.id}`;
    heading.dataset.task = task.id;
    startedAt = performance.now();
    mountLabelStudio(holder, project.label_config, {
      id: task.id, data: task.data,
      // An annotator may change only their own annotation: others' are not offered to them (Update would
      // be refused), and without one of their own they get a new one.
      annotations: (task.annotations || []).filter((a) => !a.was_cancelled
        && (canChangeOthersAnnotations(user) || authorOf(a) === user.id)),
      predictions: task.predictions || [],
    }, user, {
      onSubmit: (result) => save("Submitted", () => api("POST", `/api/tasks/${task.id}/annotations`,
        { result, lead_time: leadTime(), was_cancelled: false })),
      onUpdate: (result, annotation) => save("Updated", () => api("PATCH", `/api/annotations/${annotation.pk}`,
        { result, lead_time: leadTime(), version: versions.get(Number(annotation.pk)) })),
      // Label Studio records a skip as a cancelled annotation; the task goes to the skip queue.
      onSkip: project.show_skip_button === false ? undefined : () => save("Skipped", () => api("POST",
        `/api/tasks/${task.id}/annotations`, { result: [], was_cancelled: true, lead_time: leadTime() })),
    });
    const answered = (task.annotations || []).some((a) => !a.was_cancelled);
    reviews.replaceChildren(...(canReview(user) && answered ? [reviewPanel(task.id)] : []));
  }

  const leadTime = () => Math.round((performance.now() - startedAt) / 10) / 100;

  async function save(done, request) {
    try {
      await request();
      await open();
      note.set(`${done}.`, "ok");
    } catch (error) {
      note.set(error.message, "error");
    }
  }

  // Label Studio shows a project's instructions before labeling when the project asks for it, and on demand.
  function showInstructions(button) {
    const dialog = h("dialog", { class: "card instructions", "data-testid": "instructions" },
      h("h2", {}, "Instructions"), h("div", { class: "prose" }, sanitizedHtml(project.expert_instruction)),
      h("form", { method: "dialog", class: "toolbar" }, h("button", { class: "primary", type: "submit" }, button)));
    dialog.addEventListener("close", () => dialog.remove());
    holder.after(dialog);
    dialog.showModal();
    return dialog;
  }

  show(projectTabs(project, "label", canManage(user)),
    h("div", { class: "toolbar" }, heading, hasInstructions
      ? h("button", { type: "button", onclick: () => showInstructions("Close") }, "Show instructions") : null),
    note, holder, reviews);
  await open();
  if (hasInstructions && project.show_instruction && !singleTask) {
    // The time spent reading is not labeling time.
    showInstructions("Start labeling").addEventListener("close", () => { startedAt = performance.now(); });
  }
}
