// The label stream a labeling page walks: where its tasks come from (the project's queue, or a Data Manager
// tab "as displayed"), the history of the tasks it handed out (Back and Forward), and the caller's progress.
//
// History is the server's (/api/projects/{id}/label-stream-history): it outlives a reload. Progress is
// Label Studio's queue_done/queue_total for the caller, read once when the stream opens (the server reads
// every task for it) and counted on from there.

import { api, query } from "./api.js";

/** A tab's filters and ordering, as Label Studio's Data Manager sends them for "Label tasks as displayed". */
function displayed(view) {
  const data = view.data || {};
  return { filters: data.filters || { conjunction: "and", items: [] }, ordering: data.ordering || [] };
}

export async function labelStream(projectId, viewId) {
  const view = viewId ? await api("GET", `/api/dm/views/${viewId}`) : null;
  const scope = view ? { view: view.id } : {};
  const [history, progress] = await Promise.all([
    api("GET", `/api/projects/${projectId}/label-stream-history`),
    api("GET", `/api/projects/${projectId}/label-stream-progress?${query(scope)}`),
  ]);
  // Where the page is in the history: an index into it, or history.length past its end ("All done").
  let position = history.length;

  const stream = {
    view,
    history,
    progress,
    get position() { return position; },
    answered: (index) => Boolean(history[index]?.annotationId),
    canGoBack: () => position > 0,
    canGoForward: () => position < history.length - 1 || (position === history.length - 1 && stream.answered(position)),

    /** The stream's next task (the one held for the caller, if any); null when none is left. */
    async next() {
      let task;
      try {
        task = view
          ? await api("POST", `/api/dm/actions?${query({ project: projectId, id: "next_task" })}`, displayed(view))
          : await api("GET", `/api/projects/${projectId}/next`);
      } catch (error) {
        if (error.status !== 404) throw error;
        position = history.length;
        return null;
      }
      let index = history.findIndex((entry) => entry.taskId === task.id);
      if (index < 0) {
        history.push({ taskId: task.id, annotationId: null });
        index = history.length - 1;
      }
      position = index;
      return task;
    },

    /** The task at `index` of the history, as it is now; past the end, the stream's next task. */
    async at(index) {
      if (index >= history.length) return stream.next();
      position = index;
      return api("GET", `/api/tasks/${history[index].taskId}`);
    },

    back: () => stream.at(position - 1),
    forward: () => stream.at(position + 1),

    /** Note an answer to the task shown: in the history, and in the progress when it is a new one. */
    noteAnswer(annotation, { firstAnswer, countsAsDone }) {
      if (history[position]) history[position].annotationId = annotation.id;
      if (firstAnswer && countsAsDone) progress.queue_done = Math.min(progress.queue_done + 1, progress.queue_total);
    },
  };
  return stream;
}
