// The label stream: the next task from /next (or, "as displayed", from a Data Manager tab, `?view=ID`; or
// one task, `?task=ID`, from the data manager), shown in the Label Studio Frontend with the selected model
// version's prediction pre-filled and the caller's draft, if they left one, restored. While labeling, the
// LSF saves drafts (Label Studio's drafts API). In the stream, Back and Forward walk the tasks it handed
// out (label-stream.js), the progress says how many of the caller's tasks are done, and "?" lists the
// keyboard shortcuts (shortcuts.js).

import { api } from "../api.js";
import { h, show, status } from "../dom.js";
import { sanitizedHtml } from "../html.js";
import { interactiveBackend, suggestWith } from "../interactive.js";
import { labelStream } from "../label-stream.js";
import { mountLabelStudio, selectedAnnotation, unmountLabelStudio } from "../lsf.js";
import { reviewPanel } from "../review.js";
import { authorOf, canChangeOthersAnnotations, canManage, canReview } from "../roles.js";
import { shortcuts } from "../shortcuts.js";
import { projectTabs } from "./project-tabs.js";

const nextTick = () => new Promise((resolve) => setTimeout(resolve, 0));

export async function labelPage({ user, params, args: [projectId] }) {
  const project = await api("GET", `/api/projects/${projectId}`);
  const singleTask = params.get("task");
  const stream = singleTask ? null : await labelStream(projectId, params.get("view"));
  const interactive = await interactiveBackend(projectId);  // suggestions while labeling (interactive.js)
  const note = status();
  const holder = h("div", { class: "labeling", "data-testid": "labeling" });
  const heading = h("span", { class: "muted", "data-testid": "task-heading" });
  const draftNote = h("span", { class: "muted draft-note", "data-testid": "draft-status" });
  const reviews = h("div", { class: "reviews" });  // the review panel, for those who may review
  const hasInstructions = Boolean(project.expert_instruction?.trim());
  // Annotation versions, for PATCH's optimistic concurrency (a stale version is a 409, not a lost edit).
  const versions = new Map();
  let startedAt = 0;
  let pendingDraft = Promise.resolve();
  // The draft each annotation was saved in: the LSF forgets its own note of it (dropDraft) as it submits.
  const savedDrafts = new WeakMap();
  let busy = false;

  const back = h("button", { type: "button", "aria-label": "Back", title: "Back (Alt + ←)", onclick: () => go(() => stream.back()) }, "← Back");
  const forward = h("button", { type: "button", "aria-label": "Forward", title: "Forward (Alt + →)", onclick: () => go(() => stream.forward()) }, "Forward →");
  const progressText = h("span", { "data-testid": "progress-text" });
  const progressBar = h("progress", { "aria-label": "Progress" });
  const keys = shortcuts(stream ? [
    { key: "Alt+ArrowLeft", label: "Alt + ←", what: "Back to the task before", run: () => stream.canGoBack() && go(() => stream.back()) },
    { key: "Alt+ArrowRight", label: "Alt + →", what: "Forward to the task after", run: () => stream.canGoForward() && go(() => stream.forward()) },
  ] : []);

  function drawStream() {
    if (!stream) return;
    back.disabled = !stream.canGoBack();
    forward.disabled = !stream.canGoForward();
    const { queue_done: done, queue_total: total } = stream.progress;
    progressText.textContent = `${done} of ${total} done`;
    progressBar.max = Math.max(total, 1);
    progressBar.value = done;
  }

  async function open(load) {
    note.set("");
    draftNote.textContent = "";
    let task;
    try {
      task = await load();
    } catch (error) {
      if (error.status !== 404 || singleTask) throw error;
      task = null;
    }
    drawStream();
    if (!task) {
      unmountLabelStudio();
      heading.textContent = "";
      delete heading.dataset.task;
      reviews.replaceChildren();
      holder.replaceChildren(h("div", { class: "card done", "data-testid": "no-more-tasks" },
        h("h2", {}, "All done"), h("p", {}, "There are no more tasks for you in this project."),
        h("a", { href: `#/projects/${projectId}` }, "Back to the data")));
      return;
    }
    mount(task);
  }

  function mount(task) {
    for (const a of task.annotations || []) versions.set(a.id, a.version);
    heading.textContent = `Task ${task.id}`;
    heading.dataset.task = task.id;
    startedAt = performance.now();
    const drafts = task.drafts || [];  // the caller's own
    const draftIds = {};
    // An annotator may change only their own annotation: others' are not offered to them (Update would
    // be refused), and without one of their own they get a new one. A draft of an annotation opens in it.
    const annotations = (task.annotations || []).filter((a) => !a.was_cancelled
      && (canChangeOthersAnnotations(user) || authorOf(a) === user.id)).map((a) => {
      const draft = drafts.find((d) => d.annotation === a.id);
      if (!draft) return a;
      draftIds[a.id] = draft.id;
      return { ...a, draft: draft.result };
    });
    // Work left unsubmitted on this task: a new annotation that opens on the draft.
    const fresh = drafts.find((d) => d.annotation === null || d.annotation === undefined);
    if (fresh) {
      annotations.push({ userGenerate: true, result: [], draft: fresh.result });
      draftIds.new = fresh.id;
      draftNote.textContent = "Draft restored";
    }
    const answeredBefore = (task.annotations || []).some((a) => authorOf(a) === user.id);
    const submitted = (done, skip) => (saved) => {
      stream?.noteAnswer(saved, {
        firstAnswer: !answeredBefore,
        countsAsDone: !(skip && project.skip_queue === "REQUEUE_FOR_ME"),  // those skips come back
      });
      return done;
    };
    mountLabelStudio(holder, project.label_config, {
      id: task.id, data: task.data, annotations, draftIds, predictions: task.predictions || [],
    }, user, {
      onSubmit: (result, annotation) => answer(annotation, submitted("Submitted", false), (draftId) => api("POST",
        `/api/tasks/${task.id}/annotations`, { result, lead_time: leadTime(), was_cancelled: false, draft_id: draftId })),
      onUpdate: (result, annotation) => answer(annotation, submitted("Updated", false), (draftId) => api("PATCH",
        `/api/annotations/${annotation.pk}`, { result, lead_time: leadTime(), version: versions.get(Number(annotation.pk)), draft_id: draftId })),
      // Label Studio records a skip as a cancelled annotation; the task goes to the skip queue.
      onSkip: project.show_skip_button === false ? undefined : () => answer(selectedAnnotation(), submitted("Skipped", true),
        () => api("POST", `/api/tasks/${task.id}/annotations`, { result: [], was_cancelled: true, lead_time: leadTime() })),
      onDraft: (result, annotation) => saveDraft(task, result, annotation),
      onRegionFinishedDrawing: interactive ? suggestWith(interactive, task.id, (text) => note.set(text, "error")) : undefined,
    });
    const answered = (task.annotations || []).some((a) => !a.was_cancelled);
    reviews.replaceChildren(...(canReview(user) && answered ? [reviewPanel(task.id)] : []));
  }

  const leadTime = () => Math.round((performance.now() - startedAt) / 10) / 100;

  // The LSF saves a draft a few seconds after each change: the first one creates it (for the task, or
  // for the annotation being changed), the next ones change it.
  function saveDraft(task, result, annotation) {
    const body = { result, lead_time: leadTime() };
    let request;
    if (annotation.draftId) request = api("PATCH", `/api/drafts/${annotation.draftId}`, body);
    else if (annotation.pk) request = api("POST", `/api/tasks/${task.id}/annotations/${annotation.pk}/drafts`, body);
    else request = api("POST", `/api/tasks/${task.id}/drafts`, body);
    pendingDraft = request.then((draft) => {
      savedDrafts.set(annotation, draft.id);
      if (selectedAnnotation() === annotation) annotation.setDraftId(draft.id);  // still on screen
      draftNote.textContent = `Draft saved at ${new Date().toLocaleTimeString()}`;
    }, (error) => note.set(`The draft was not saved: ${error.message}`, "error"));
    return pendingDraft;
  }

  // Before the page moves on: changes not yet saved become a draft, and the saves under way end.
  async function settleDrafts() {
    selectedAnnotation()?.autosave?.flush?.();
    await pendingDraft;
    await nextTick();  // the LSF notes the saved draft on its annotation before it goes
  }

  async function answer(annotation, done, request) {
    // Read before anything waits: right after calling this, the LSF drops its note of the draft.
    const draftId = annotation?.draftId;
    if (busy) return;
    busy = true;
    annotation?.pauseAutosave?.();  // a draft of what is being submitted would outlive it
    await pendingDraft;  // a draft being created: its id, so that it goes with the submit
    try {
      const message = done(await request(draftId || savedDrafts.get(annotation) || undefined));
      await open(stream ? () => stream.forward() : () => api("GET", `/api/tasks/${singleTask}`));
      note.set(`${message}.`, "ok");
    } catch (error) {
      note.set(error.message, "error");
    } finally {
      busy = false;
    }
  }

  async function go(step) {
    if (busy) return;
    busy = true;
    try {
      await settleDrafts();
      await open(step);
    } catch (error) {
      note.set(error.message, "error");
    } finally {
      busy = false;
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

  const tab = stream?.view ? h("span", { class: "chip", "data-testid": "stream-tab" }, `Tab: ${stream.view.data?.title || "Tab"}`) : null;
  show(projectTabs(project, "label", canManage(user)),
    h("div", { class: "toolbar stream-bar" },
      stream ? back : null, stream ? forward : null, heading, tab, draftNote,
      stream ? h("span", { class: "progress", "data-testid": "progress" }, progressBar, progressText) : null,
      h("span", { class: "spacer" }),
      hasInstructions ? h("button", { type: "button", onclick: () => showInstructions("Close") }, "Show instructions") : null,
      h("button", { type: "button", "aria-label": "Keyboard shortcuts", title: "Keyboard shortcuts (?)", onclick: keys.toggle }, "Shortcuts")),
    keys.panel, note, holder, reviews);
  await open(stream ? () => stream.next() : () => api("GET", `/api/tasks/${singleTask}`));
  if (hasInstructions && project.show_instruction && !singleTask) {
    // The time spent reading is not labeling time.
    showInstructions("Start labeling").addEventListener("close", () => { startedAt = performance.now(); });
  }
}
