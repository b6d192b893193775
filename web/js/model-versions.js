// Which predictions a project shows annotators: its `model_version`, which is either a live model (the title
// of one of its ML backends: that backend's current version) or a version of stored predictions. Label
// Studio lists both at /api/projects/{id}/model-versions?extended=1&include_live_models=1, as
// `{static: [{model_version, count, latest}], live: [<ML backend>]}`.

import { api } from "./api.js";
import { h } from "./dom.js";

/** `{static, live}` for the project: stored prediction versions (newest first) and its ML backends. */
export async function projectModelVersions(projectId) {
  try {
    const found = await api("GET", `/api/projects/${projectId}/model-versions?extended=1&include_live_models=1`);
    return { static: found?.static || [], live: found?.live || [] };
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  // A server without that route: the same lists from the backends and the project's predictions.
  const [live, predictions] = await Promise.all([
    api("GET", `/api/ml?project=${projectId}`),
    api("GET", `/api/predictions?project=${projectId}`).catch(() => []),
  ]);
  const versions = new Map();
  for (const prediction of predictions) {
    const name = prediction.model_version || "undefined";
    const entry = versions.get(name) || { model_version: name, count: 0, latest: prediction.created_at };
    entry.count += 1;
    if (prediction.created_at > entry.latest) entry.latest = prediction.created_at;
    versions.set(name, entry);
  }
  return { static: [...versions.values()].sort((a, b) => (a.latest < b.latest ? 1 : -1)), live };
}

/** The project's `model_version` as a select: live models first, then stored versions, as Label Studio
 *  groups them. A value the lists lack (a version whose predictions are gone) stays, marked. */
export function modelVersionSelect(project, { static: versions, live }) {
  const select = h("select", { name: "model_version" },
    h("option", { value: "" }, "None selected: every prediction"),
    live.length ? h("optgroup", { label: "Models" }, live.map((backend) => h("option", { value: backend.title },
      `${backend.title} (${backend.readable_state || backend.state})`))) : null,
    versions.length ? h("optgroup", { label: "Predictions" }, versions.map((v) => h("option", { value: v.model_version },
      `${v.model_version} (${v.count} predictions)`))) : null);
  const current = project.model_version || "";
  const known = [...select.options].some((option) => option.value === current);
  if (!known) select.append(h("option", { value: current }, `${current} (no predictions)`));
  select.value = current;
  return select;
}
