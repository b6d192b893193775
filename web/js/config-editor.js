// A label config editor with a live preview in the Label Studio Frontend, checked by the API as you type.

import { api } from "./api.js";
import { h, status } from "./dom.js";
import { mountLabelStudio } from "./lsf.js";
import { sampleData } from "./templates.js";

/** Returns {element, value(), setConfig(config, sample)}. */
export function configEditor(user, initialConfig, initialSample = {}) {
  let sample = initialSample;
  let timer = null;
  const note = status();
  const preview = h("div", { class: "preview", "data-testid": "config-preview" });
  const text = h("textarea", {
    class: "code", rows: 14, spellcheck: "false", "aria-label": "Label config", name: "label_config",
    oninput: () => { clearTimeout(timer); timer = setTimeout(refresh, 400); },
  });
  text.value = initialConfig;

  async function refresh() {
    const config = text.value;
    try {
      const { data_keys: keys } = await api("POST", "/api/projects/validate", { label_config: config });
      note.set("");
      mountLabelStudio(preview, config, { id: 1, data: sampleData(keys, sample), annotations: [], predictions: [] },
        user);
      preview.dataset.renders = Number(preview.dataset.renders || 0) + 1;  // lets a test wait for a new preview
    } catch (error) {
      note.set(error.message, "error");
    }
  }

  refresh();
  return {
    element: h("div", { class: "config-editor" },
      h("div", {}, h("label", {}, "Labeling interface (XML)"), text, note),
      h("div", {}, h("label", {}, "Preview"), preview)),
    value: () => text.value,
    setConfig(config, newSample = {}) { text.value = config; sample = newSample; refresh(); },
  };
}
