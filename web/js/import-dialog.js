// The import dialog: task files (JSON, JSONL, CSV, TSV, TXT), hypertext (HTML, XML) and media (images,
// audio, video, PDF) in one multipart POST to /api/projects/{id}/import, as Label Studio's import page
// sends them. Each media file becomes one task whose data is its /data/upload/ URL.

import { api, upload } from "./api.js";
import { h, status } from "./dom.js";

// What the API takes (functions/domain/media_files.py, Label Studio's SUPPORTED_EXTENSIONS).
const TASK_FILES = [".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".txt"];
const HYPERTEXT = [".html", ".htm", ".xml"];
const MEDIA = [".bmp", ".gif", ".jpeg", ".jpg", ".png", ".svg", ".webp", ".flac", ".m4a", ".mp3", ".ogg",
  ".wav", ".mp4", ".webm", ".pdf"];
const ACCEPTED = [...TASK_FILES, ...HYPERTEXT, ...MEDIA];

const extension = (name) => (name.match(/\.[^./\\]+$/) || [""])[0].toLowerCase();

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The data keys the project's label config reads: every named tag's `value="$key"` (Label Studio's
 * `extract_data_types`). Media goes into the first; with more than one the API refuses media. Parsed as
 * XML, which runs nothing. */
function dataKeys(project) {
  const doc = new DOMParser().parseFromString(project.label_config || "<View/>", "application/xml");
  const keys = [...doc.querySelectorAll("[name][value]")].map((tag) => tag.getAttribute("value"))
    .filter((value) => value.length > 1 && value.startsWith("$")).map((value) => value.slice(1));
  return [...new Set(keys)];
}

/** Open the dialog for `project`; `reload()` runs after a successful import. Returns the <dialog>. */
export function importDialog(project, reload) {
  const note = status();
  const keys = dataKeys(project);
  const files = h("input", { type: "file", name: "file", multiple: true, accept: ACCEPTED.join(","),
    "aria-label": "Task files and media", onchange: () => listChosen() });
  const chosen = h("ul", { class: "plain chosen-files", "data-testid": "chosen-files" });
  const progress = h("progress", { max: 1, value: 0, "aria-label": "Upload progress" });
  const submit = h("button", { class: "primary", type: "submit" }, "Upload");
  const hint = keys.length > 1
    ? `Media files need a labeling config with one data key; this one reads ${keys.map((k) => `$${k}`).join(", ")}: import JSON or CSV instead.`
    : `Each image, audio, video or PDF file becomes one task${keys.length ? ` with its URL in $${keys[0]}` : ""}.`;

  function listChosen() {
    const picked = [...files.files];
    chosen.replaceChildren(...picked.map((file) => h("li", {},
      h("span", {}, file.name), h("span", { class: "muted" }, size(file.size)),
      ACCEPTED.includes(extension(file.name)) ? null : h("span", { class: "error" }, "not supported"))));
    const total = picked.reduce((sum, file) => sum + file.size, 0);
    note.set(picked.length ? `${picked.length} file(s), ${size(total)}` : "");
    progress.value = 0;
  }

  async function send(event) {
    event.preventDefault();
    const picked = [...files.files];
    if (!picked.length) { note.set("Choose files to import.", "error"); return; }
    const unsupported = picked.filter((file) => !ACCEPTED.includes(extension(file.name)));
    if (unsupported.length) {
      note.set(`${unsupported.map((f) => f.name).join(", ")}: not a supported file type.`, "error");
      return;
    }
    const form = new FormData();
    for (const file of picked) form.append(file.name, file);
    submit.disabled = true;
    try {
      let result = await upload(`/api/projects/${project.id}/import`, form, (fraction) => {
        progress.value = fraction;
        note.set(`Uploading… ${Math.round(fraction * 100)}%`);
      });
      progress.value = 1;
      // Over the synchronous limit the API answers {import: id}: poll it until it ends.
      const importId = result.import;
      while (importId && !["completed", "failed"].includes(result.status)) {
        note.set("Importing in the background…");
        await new Promise((r) => setTimeout(r, 1000));
        result = await api("GET", `/api/projects/${project.id}/imports/${importId}`);
      }
      if (result.status === "failed") throw new Error(result.error || "Import failed.");
      const count = result.task_count ?? result.task_ids?.length ?? 0;
      const media = result.file_upload_ids?.length ? `, ${result.file_upload_ids.length} media file(s) stored` : "";
      note.set(`Imported ${count} tasks${media}.`, "ok");
      files.value = "";
      chosen.replaceChildren();
      reload();
    } catch (error) {
      progress.value = 0;
      note.set(error.message, "error");
    } finally {
      submit.disabled = false;
    }
  }

  // Files dropped anywhere on the dialog count as chosen.
  const dropped = (event) => {
    event.preventDefault();
    if (event.type === "drop" && event.dataTransfer?.files.length) { files.files = event.dataTransfer.files; listChosen(); }
  };
  const dialog = h("dialog", { class: "card import-dialog", ondragover: dropped, ondrop: dropped },
    h("form", { method: "dialog", onsubmit: send },
      h("h2", {}, "Import tasks"),
      h("p", { class: "muted" }, "Task files (JSON, JSONL, CSV, TSV, TXT), HTML or XML pages, or media. ", hint),
      files, chosen, progress, note,
      h("div", { class: "toolbar" }, submit, h("button", { type: "button", onclick: () => dialog.close() }, "Close"))));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  return dialog;
}
