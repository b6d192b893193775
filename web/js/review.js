// Reviewing: a reviewer (or manager, admin) accepts or rejects a task's annotations, with a comment, from the
// Data Manager (a task's Review dialog) and under the labeling view; agreement between the annotators is
// shown beside, per task and over the project. APIs: /api/annotation-reviews (an annotation keeps its latest
// review: functions/services/reviews.py), /api/tasks/{id}/agreement, /api/projects/{id}/agreement.
// Only roles.canReview users get any of it: the pages check before calling these.

import { api } from "./api.js";
import { h, status } from "./dom.js";

const percent = (value) => (value === null || value === undefined ? "—" : `${Math.round(value * 100)}%`);
const VERDICTS = { accepted: "Accepted", rejected: "Rejected" };

/** A one-line text of an annotation's result: the choices, labels, texts and ratings it holds. */
export function resultSummary(result) {
  const parts = (result || []).map((region) => {
    const value = region.value || {};
    const labels = Object.entries(value).find(([key, v]) => Array.isArray(v) && key !== "points")?.[1];
    const said = labels ? labels.join(", ") : value.rating ?? value.number ?? "";
    return value.text !== undefined && typeof value.text === "string" && labels
      ? `${said}: "${value.text}"` : String(said || region.type);
  });
  return parts.length ? parts.join(" · ") : "(empty)";
}

/** The Data Manager's cell for a task: how its answers were reviewed, and the Review button. */
export function reviewCell(task, onChange) {
  const answered = (task.annotations || []).filter((a) => !a.was_cancelled);
  const count = (verdict) => answered.filter((a) => a.review_status === verdict).length;
  return h("td", { "data-col": "review", class: "review-cell" },
    h("span", { class: "review-counts", title: "accepted · rejected · not reviewed" },
      `${count("accepted")} ✓ · ${count("rejected")} ✗ · ${answered.length - count("accepted") - count("rejected")} ?`),
    answered.length ? h("button", { type: "button", onclick: () => reviewDialog(task.id, onChange) }, "Review") : null);
}

/** The dialog with a task's annotations to accept or reject; `onChange()` after each review. */
export function reviewDialog(taskId, onChange) {
  const dialog = h("dialog", { class: "card review-dialog", "data-testid": "review-dialog" },
    h("h2", {}, `Review task ${taskId}`), reviewList(taskId, onChange),
    h("form", { method: "dialog", class: "toolbar spaced" }, h("button", { type: "submit" }, "Close")));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** Under the labeling view: the task's annotations to review, for reviewers. */
export function reviewPanel(taskId, onChange) {
  return h("section", { class: "card review-panel", "data-testid": "review-panel" },
    h("h2", {}, "Review"), reviewList(taskId, onChange));
}

/** A task's answered annotations, each with its author, result, verdict and Accept / Reject; and the
 *  agreement between them. Loads itself. */
export function reviewList(taskId, onChange = () => {}) {
  const holder = h("div", { class: "review-list" }, h("p", { class: "muted" }, "Loading…"));
  const note = status();

  function row(annotation) {
    const comment = h("input", { "aria-label": `Comment on annotation ${annotation.id}`, placeholder: "Comment (optional)" });
    const verdict = h("span", { class: `verdict ${annotation.review_status || ""}`, "data-testid": "verdict" },
      VERDICTS[annotation.review_status] || "Not reviewed");
    const review = async (accepted) => {
      try {
        const saved = await api("POST", "/api/annotation-reviews",
          { annotation: annotation.id, accepted, comment: comment.value || null });
        annotation.review_status = saved.accepted ? "accepted" : "rejected";
        verdict.className = `verdict ${annotation.review_status}`;
        verdict.textContent = VERDICTS[annotation.review_status];
        note.set(`Annotation ${annotation.id} ${annotation.review_status}.`, "ok");
        onChange();
      } catch (error) { note.set(error.message, "error"); }
    };
    const author = annotation.completed_by?.email ?? (annotation.completed_by ? `user ${annotation.completed_by}` : "unknown");
    return h("li", { class: "review-item", "data-annotation": annotation.id },
      h("div", { class: "review-head" }, h("strong", {}, `#${annotation.id}`), ` by ${author} `, verdict),
      h("div", { class: "review-result" }, resultSummary(annotation.result)),
      h("div", { class: "toolbar" }, comment,
        h("button", { type: "button", class: "primary", onclick: () => review(true) }, "Accept"),
        h("button", { type: "button", class: "danger", onclick: () => review(false) }, "Reject")));
  }

  (async () => {
    try {
      const [task, agreement] = await Promise.all([
        api("GET", `/api/tasks/${taskId}`), api("GET", `/api/tasks/${taskId}/agreement`)]);
      const answered = (task.annotations || []).filter((a) => !a.was_cancelled);
      holder.replaceChildren(
        h("p", { class: "agreement", "data-testid": "task-agreement" }, agreement.agreement === null
          ? `Agreement: needs two or more annotations (this task has ${agreement.annotations}).`
          : `Agreement between its ${agreement.annotations} annotations: ${percent(agreement.agreement)}`),
        answered.length ? h("ul", { class: "plain review-items" }, answered.map(row))
          : h("p", { class: "muted" }, "No annotations to review yet."),
        note);
    } catch (error) { holder.replaceChildren(note); note.set(error.message, "error"); }
  })();
  return holder;
}

/** The project's agreement (tasks with two or more annotations), computed on request: it reads every task
 *  of the project, so it is not fetched with each page of the Data Manager. */
export function agreementSummary(projectId) {
  const line = h("span", { class: "muted agreement", "data-testid": "project-agreement" });
  const button = h("button", { type: "button", onclick: async () => {
    button.disabled = true;
    try {
      const a = await api("GET", `/api/projects/${projectId}/agreement`);
      line.textContent = a.tasks_with_agreement
        ? `mean ${percent(a.mean)}, median ${percent(a.median)} over ${a.tasks_with_agreement} tasks with two or more annotations`
        : "no task has two annotations yet";
    } catch (error) { line.textContent = error.message; }
    button.disabled = false;
  } }, "Project agreement");
  return h("span", { class: "toolbar inline-group" }, button, line);
}
