// Interactive pre-annotation, as Label Studio's own app wires it into the Label Studio Frontend: when the
// project has an ML backend with interactive pre-annotations on, the LSF offers "Auto-Annotation"; a region
// drawn with it on (a smart tool, a text span) ends in `regionFinishedDrawing`, which sends that region
// (and the others drawn so with the same label) as `context` to /api/ml/{id}/interactive-annotating. The
// backend's answer comes back as suggestions (`store.loadSuggestions`): the LSF accepts text ones at once
// and shows the others to accept or reject.

import { api } from "./api.js";

/** The project's backend for interactive pre-annotation (its first with `is_interactive`), or null. */
export async function interactiveBackend(projectId) {
  const backends = await api("GET", `/api/ml?project=${projectId}`);
  return backends.find((backend) => backend.is_interactive) || null;
}

/**
 * The LSF's `regionFinishedDrawing` handler for `taskId` (lsf.js `onRegionFinishedDrawing`). `onError(text)`
 * hears why no suggestion came (the API answers a backend's failure as 200 `{errors}`, as Label Studio does).
 */
export function suggestWith(backend, taskId, onError) {
  return (store, region, group) => {
    const annotation = store.annotationStore.selected;
    const ids = group.map((drawn) => drawn.cleanId);
    const result = annotation.serializeAnnotation().filter((item) => ids.includes(item.id));
    const request = api("POST", `/api/ml/${backend.id}/interactive-annotating`, { task: taskId, context: { result } })
      .catch((error) => ({ errors: [error.message] }))
      .then((answer) => {
        if (answer?.errors?.length) onError(`No suggestions: ${answer.errors.join("; ")}`);
        // The annotator may have moved on: suggestions belong to the annotation they were asked for.
        return store.annotationStore.selected === annotation ? answer : new Promise(() => {});
      });
    store.loadSuggestions(request, (answer) => fresh(answer?.data?.result || [], annotation));
  };
}

// A region as it is, whatever its id: the backend answers every match, the one just drawn included.
const identity = (region) => JSON.stringify([region.from_name, region.to_name, region.type,
  JSON.stringify(region.value, Object.keys(region.value || {}).sort())]);

/** The suggested regions the annotation does not have already. */
function fresh(suggested, annotation) {
  const have = new Set(annotation.serializeAnnotation().map(identity));
  return suggested.filter((region) => !have.has(identity(region)));
}
