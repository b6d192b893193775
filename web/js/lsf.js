// The Label Studio Frontend (global `LabelStudio`, loaded by index.html), mounted into a holder element.
// It renders the task itself, <HyperText> included, inside its own sandboxed view.

import { h } from "./dom.js";

// Without "topbar" the Submit/Skip buttons do not show.
export const LABELING_INTERFACES = [
  "panel", "update", "submit", "skip", "controls", "topbar", "side-column",
  "annotations:menu", "annotations:current", "predictions:menu",
];
const PREVIEW_INTERFACES = ["panel", "side-column", "controls"];

let mounted = null;
let counter = 0;

/** Destroy the current Label Studio instance, if any (one per page). */
export function unmountLabelStudio() {
  if (!mounted) return;
  const instance = mounted;
  mounted = null;
  // The class keeps every instance it made in a static set: without this, every store ever mounted stays.
  window.LabelStudio.instances?.delete(instance);
  try { instance.destroy(); } catch { /* already gone with its element */ }
}

/** The annotation being labeled in the mounted LSF, if any. */
export function selectedAnnotation() {
  return mounted?.store?.annotationStore?.selected ?? null;  // the instance's app store, once it is made
}

/**
 * Mount the LSF for `task` ({id, data, annotations, predictions}) with `config`.
 * `handlers`: onSubmit(result, annotation), onUpdate(result, annotation), onSkip() (no Skip button without
 * it), onDraft(result, annotation) (the LSF saves a draft a few seconds after each change; without it,
 * none), onRegionFinishedDrawing(store, region, group) (with it, the LSF offers Auto-Annotation, and a
 * region drawn with it on calls this: interactive.js). An annotation of `task.annotations` with a `draft` result opens on the draft; `task.draftIds`
 * ({annotation id, or "new": draft id}) tells each annotation its stored draft. Without handlers the
 * view is a preview. With predictions and no annotations, the first prediction pre-fills the annotation.
 */
export function mountLabelStudio(holder, config, task, user, handlers = null) {
  unmountLabelStudio();
  const root = h("div", { id: `label-studio-${++counter}`, class: "lsf-root" });
  holder.replaceChildren(root);
  const { onSubmit, onUpdate, onSkip, onDraft, onRegionFinishedDrawing } = handlers || {};
  const interfaces = handlers ? LABELING_INTERFACES.filter((name) => name !== "skip" || onSkip) : PREVIEW_INTERFACES;
  mounted = new window.LabelStudio(root, {
    config,
    task,
    interfaces: onRegionFinishedDrawing ? [...interfaces, "auto-annotation"] : interfaces,
    user: { pk: user.id, firstName: user.first_name || user.email, lastName: user.last_name || "" },
    // Called inside the store's initialisation, before its first reactions run. An object tag (Text,
    // HyperText) watches the selected annotation's regions from then on: with nothing selected that first
    // run throws (mobx logs "Cannot read properties of null (reading 'regionStore')"). A task's
    // annotations or predictions are selected by then; otherwise the new, empty annotation is made here,
    // so that it is selected in time.
    onStorageInitialized(ls) {
      const store = ls.annotationStore;
      for (const annotation of store.annotations) {
        const draftId = task.draftIds?.[annotation.pk ?? "new"];
        if (draftId) annotation.setDraftId(draftId);
      }
      // Work the user left in a draft is what they see first.
      const drafted = store.annotations.find((annotation) => annotation.draftId);
      if (drafted) store.selectAnnotation(drafted.id);
      if (task.annotations?.length) return;
      if (!task.predictions?.length) {
        store.selectAnnotation(store.addAnnotation({ userGenerate: true }).id);
        return;
      }
      // A prediction is copied into the annotation after this tick: its regions are not built yet, and a
      // copy made now comes out empty (Label Studio's own app defers this step the same way).
      setTimeout(() => {
        const annotation = store.addAnnotationFromPrediction(store.predictions[0]);
        store.selectAnnotation(annotation.id);
      }, 0);
    },
    onSubmitAnnotation: (ls, annotation) => onSubmit?.(annotation.serializeAnnotation(), annotation),
    onUpdateAnnotation: (ls, annotation) => onUpdate?.(annotation.serializeAnnotation(), annotation),
    onSkipTask: () => onSkip?.(),
    // Without this handler the LSF saves no drafts (previews).
    onSubmitDraft: onDraft ? (ls, annotation) => onDraft(annotation.serializeAnnotation(), annotation) : undefined,
  });
  if (onRegionFinishedDrawing) {
    const instance = mounted;
    instance.on("regionFinishedDrawing", (region, group) => onRegionFinishedDrawing(instance.store, region, group));
  }
  return mounted;
}
