// A project's "Predictions" settings: the predictions it holds, one card per model version (Label Studio
// 1.23's Predictions list), and what annotators get of them (its Prelabeling switch and version select),
// with the older switch our API keeps: retrieving a prediction when a task is opened without one.

import { api } from "../api.js";
import { h, status } from "../dom.js";
import { modelVersionSelect, projectModelVersions } from "../model-versions.js";
import { canManageModels } from "../roles.js";
import { ago, toggle } from "../widgets.js";

function versionCard(version) {
  return h("article", { class: "card prediction-card", "data-version": version.model_version },
    h("strong", {}, version.model_version),
    version.model_version === "undefined"
      ? h("span", { class: "muted", title: "The predictions were imported without a model_version." }, " (no model version)") : null,
    h("div", { class: "muted" }, `${version.count} predictions · last prediction created `,
      h("span", { title: version.latest }, ago(version.latest))));
}

export async function predictionSettings(project, user) {
  if (!canManageModels(user)) return [h("p", { class: "status error" }, "Only managers and admins can change predictions.")];
  const versions = await projectModelVersions(project.id);
  const saved = status();
  const show = toggle("show_collab_predictions", project.show_collab_predictions, "Use predictions to prelabel tasks",
    "Annotators see the selected predictions in their tasks, pre-filled into the annotation they start from.");
  const select = modelVersionSelect(project, versions);
  const onLoad = toggle("evaluate_predictions_automatically", project.evaluate_predictions_automatically,
    "Retrieve predictions when loading a task automatically",
    "A task opened without a prediction of the model's current version asks the project's model for one first.");
  const selectRow = h("label", {}, "Select which predictions or which model you want to use", select);
  const sync = () => { selectRow.hidden = !show.input.checked; };
  show.input.addEventListener("change", sync);
  sync();
  return [
    h("section", { class: "predictions-list", "data-testid": "prediction-versions" }, h("h2", {}, "Predictions"),
      versions.static.length
        ? [h("p", { class: "muted" }, "Predictions available in the project. Each card is one model version."),
          ...versions.static.map(versionCard)]
        : h("div", { class: "card empty-state", "data-testid": "no-predictions" }, h("h3", {}, "No predictions yet"),
          h("p", { class: "muted" }, "Import predictions with your tasks, or connect a model on the Model page and "
            + "retrieve its predictions from the Data Manager."))),
    h("form", { class: "card", "data-testid": "prelabeling", oninput: () => saved.set(""), onsubmit: async (event) => {
      event.preventDefault();
      try {
        Object.assign(project, await api("PATCH", `/api/projects/${project.id}`, {
          show_collab_predictions: show.input.checked, model_version: select.value,
          evaluate_predictions_automatically: onLoad.input.checked }));
        saved.set("Saved.", "ok");
      } catch (error) { saved.set(error.message, "error"); }
    } }, h("h2", {}, "Prelabeling"), show, selectRow, onLoad,
    h("button", { class: "primary", type: "submit" }, "Save"), saved),
  ];
}
