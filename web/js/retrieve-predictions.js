// What the Data Manager's "Retrieve Predictions" did. The API answers 200 with `detail` saying how many
// predictions came back and, when tasks got none, why (the backend's error, no backend, time ran out, the
// model returned none, the tasks had them already). A large selection runs in the background: the answer
// names a job, polled at /api/ml/{backend}/jobs/{job} until it ends, with its progress shown meanwhile.

import { api } from "./api.js";
import { h } from "./dom.js";

const POLL_MS = 1000;
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** How a finished retrieval reads: an error when the backend failed, a warning when nothing came back. */
function kindOf(failed, predictions) {
  if (failed) return "error";
  return predictions ? "ok" : "warn";
}

/** Show the answer of the action in `note`; for a background job, its progress until it ends. Resolves
 *  when the retrieval is over (the table may be read again then). */
export async function reportRetrieval(answer, note) {
  if (!answer?.job) {
    const count = answer?.processed_items ?? 0;
    note.set(answer?.detail || `Retrieved predictions for ${count} tasks.`, kindOf(Boolean(answer?.error), count));
    return;
  }
  const bar = h("progress", { max: 1, value: 0, "aria-label": "Retrieval progress" });
  const text = h("span", { "data-testid": "retrieval-progress" }, answer.detail || "Retrieving predictions in the background…");
  note.className = "status";
  note.replaceChildren(h("span", { class: "job-progress" }, bar, text));
  let job;
  for (;;) {
    await wait(POLL_MS);
    try {
      job = await api("GET", `/api/ml/${answer.ml_backend}/jobs/${answer.job}`);
    } catch (error) {
      note.set(`The retrieval's progress could not be read: ${error.message}`, "error");
      return;
    }
    bar.max = Math.max(job.total, 1);
    bar.value = job.processed;
    text.textContent = `Retrieving predictions: ${job.processed} of ${job.total} tasks, ${job.predictions} predictions so far`;
    if (job.status !== "running") break;
  }
  const message = job.detail || (job.error ? `Retrieved ${job.predictions} predictions: the ML backend failed: ${job.error}`
    : `Retrieved ${job.predictions} predictions`);
  note.set(message, kindOf(job.status === "failed", job.predictions));
}
