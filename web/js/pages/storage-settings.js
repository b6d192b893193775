// A project's cloud storage (settings, "Cloud Storage"), as Label Studio's page has it: source storages
// whose objects become tasks, target storages that receive each annotation; each with its status and
// counts, synced on request (the sync runs in the background: the card polls the storage until it ends),
// changed, checked ("Check Connection") and deleted. Credentials are write-only: the form never shows a
// stored one, and leaving its field empty keeps it.

import { api } from "../api.js";
import { h, status } from "../dom.js";

const KINDS = {
  import: { base: "/api/storages/s3", title: "Source Cloud Storage", add: "Add Source Storage",
    help: "Objects of a bucket become tasks: each object a task with its URL, or JSON files of tasks." },
  export: { base: "/api/storages/export/s3", title: "Target Cloud Storage", add: "Add Target Storage",
    help: "Each annotation is written to the bucket as one JSON object, as it is submitted or updated." },
};
const RUNNING = ["queued", "in_progress"];
const POLL_MS = 1000;
const CREDENTIALS = [
  ["aws_access_key_id", "Access Key ID", "AKIAIOSFODNN7EXAMPLE"],
  ["aws_secret_access_key", "Secret Access Key", ""],
  ["aws_session_token", "Session Token", "optional"],
];

/** The "Cloud Storage" section: the project's source and target storages side by side. */
export async function storageSettings(project) {
  const columns = await Promise.all(Object.keys(KINDS).map((kind) => storageColumn(project, kind)));
  return [h("section", { class: "card", "data-testid": "cloud-storage" },
    h("h2", {}, "Cloud Storage"),
    h("p", { class: "muted" },
      "Use cloud storage as the source of your labeling tasks or the target of your completed annotations."),
    h("div", { class: "storage-columns" }, columns))];
}

async function storageColumn(project, kind) {
  const { base, title, add, help } = KINDS[kind];
  const list = h("div", { class: "storage-list" });
  const note = status();
  const reload = async () => {
    try {
      const storages = await api("GET", `${base}?project=${project.id}`);
      list.replaceChildren(...(storages.length ? storages.map((s) => storageCard(project, kind, s, reload))
        : [h("p", { class: "muted" }, "None yet.")]));
    } catch (error) { note.set(error.message, "error"); }
  };
  await reload();
  return h("div", { class: "storage-column", "data-kind": kind },
    h("h3", {}, title), h("p", { class: "muted small" }, help), list, note,
    h("button", { type: "button", onclick: () => storageForm(project, kind, null, reload) }, add));
}

const label = (text) => text.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());

/** The card of one storage: what it reads or writes, its sync's status and counts, and its buttons. */
function storageCard(project, kind, storage, reload) {
  const { base } = KINDS[kind];
  const card = h("div", { class: "storage-card", "data-storage": storage.id });
  const note = status();
  let polling = false;

  // While a sync is queued or running, the storage is read again each second until it ends (or the
  // card leaves the page; a card is polled before it is put on the page, so that is checked after the wait).
  async function poll() {
    if (polling) return;
    polling = true;
    try {
      while (RUNNING.includes(storage.status)) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        if (!card.isConnected) break;
        storage = await api("GET", `${base}/${storage.id}`);
        draw();
      }
    } catch (error) { note.set(error.message, "error"); }
    polling = false;
  }

  async function sync() {
    note.set("");
    try {
      storage = await api("POST", `${base}/${storage.id}/sync`);
      draw();
      poll();
    } catch (error) { note.set(error.message, "error"); }
  }

  async function remove() {
    const what = kind === "import" ? "The tasks it imported stay in the project."
      : "The objects it wrote stay in the bucket.";
    if (!window.confirm(`Delete the storage "${storage.title || storage.bucket}"? ${what}`)) return;
    try {
      await api("DELETE", `${base}/${storage.id}`);
      await reload();
    } catch (error) { note.set(error.message, "error"); }
  }

  function draw() {
    const running = RUNNING.includes(storage.status);
    card.dataset.status = storage.status;
    card.replaceChildren(
      h("div", { class: "storage-card-head" }, h("strong", {}, storage.title || `Storage ${storage.id}`)),
      summary(kind, storage),
      h("div", { class: "toolbar" },
        h("button", { type: "button", class: "primary", disabled: running, onclick: sync },
          running ? "Syncing…" : "Sync Storage"),
        h("button", { type: "button", onclick: () => storageForm(project, kind, storage, reload) }, "Edit"),
        h("button", { type: "button", onclick: remove }, "Delete")),
      note);
  }

  draw();
  poll();
  return card;
}

function summary(kind, storage) {
  const meta = storage.meta || {};
  const synced = storage.last_sync_count || 0;
  const row = (term, ...value) => [h("dt", {}, term), h("dd", {}, ...value)];
  const failed = storage.status === "failed" || storage.status === "completed_with_errors";
  return h("dl", { class: "storage-summary" },
    row("Type", "AWS S3"),
    row("Bucket", storage.bucket),
    storage.prefix ? row("Prefix", storage.prefix) : null,
    row("Status", h("span", { class: failed ? "error" : "", "data-testid": "storage-status" }, label(storage.status))),
    kind === "import"
      ? row("Tasks", h("span", { "data-testid": "storage-count" },
        `${synced + (meta.tasks_existed || 0)} (${synced} new)`))
      : row("Annotations", h("span", { "data-testid": "storage-count" },
        `${synced} (${meta.total_annotations ?? 0} total)`)),
    row("Last Sync", storage.last_sync ? new Date(storage.last_sync).toLocaleString() : "Not synced yet"),
    storage.traceback ? [h("dt", {}, "Errors"), h("dd", {}, h("details", {},
      h("summary", {}, "Show"), h("pre", { class: "traceback" }, storage.traceback)))] : null,
  );
}

/** The dialog that adds a storage (`storage` null) or changes one; `onSaved()` after it is saved. */
function storageForm(project, kind, storage, onSaved) {
  const { base } = KINDS[kind];
  const source = kind === "import";
  const editing = storage !== null;
  const value = (name, fallback = "") => (editing ? storage[name] ?? fallback : fallback);
  const text = (name, title, attrs = {}) => {
    const input = h("input", { name, value: value(name), ...attrs });
    return [input, h("label", {}, title, input)];
  };
  const box = (name, title, fallback, help) => {
    const input = h("input", { type: "checkbox", name, checked: editing ? storage[name] : fallback });
    return [input, h("label", { class: "inline" }, input, title,
      help ? h("span", { class: "muted small" }, ` ${help}`) : null)];
  };
  const [title, titleField] = text("title", "Storage Title", { maxlength: 2048 });
  const [bucket, bucketField] = text("bucket", "Bucket Name", { required: true, placeholder: "my-storage-bucket" });
  const [prefix, prefixField] = text("prefix", "Bucket Prefix", { placeholder: "path/to/files" });
  const [regex, regexField] = text("regex_filter", "File Filter Regex",
    { placeholder: ".*\\.(jpe?g|png)$ — only objects whose key matches (RE2 syntax)" });
  const [region, regionField] = text("region_name", "Region Name", { placeholder: "us-east-1 (default)" });
  const [endpoint, endpointField] = text("s3_endpoint", "S3 Endpoint",
    { placeholder: "https://s3.amazonaws.com (default)" });
  const [roleArn, roleField] = text("role_arn", "Role ARN (instead of keys)",
    { placeholder: "arn:aws:iam::123456789012:role/labelstack-storage-…" });
  // Write-only: a stored credential is never put back into the form; empty keeps it.
  const credentials = CREDENTIALS.map(([name, title, placeholder]) => {
    const stored = editing && (name === "aws_secret_access_key" ? storage.aws_secret_access_key_is_set
      : name === "aws_access_key_id" ? Boolean(storage.aws_access_key_id) : false);
    const input = h("input", { name, type: "password", autocomplete: "new-password",
      placeholder: stored ? "Saved — leave empty to keep it" : placeholder });
    return [name, input, h("label", {}, title, input)];
  });
  const [blobs, blobsField] = box("use_blob_urls", "Treat every bucket object as a source file", false,
    "(on: each object is a task with its URL; off: objects are JSON or JSONL files of tasks)");
  const [recursive, recursiveField] = box("recursive_scan", "Recursive scan", false,
    "(also the objects in folders under the prefix)");
  const [presign, presignField] = box("presign", "Use pre-signed URLs", true,
    "(browsers read the media straight from the bucket)");
  const ttl = h("input", { name: "presign_ttl", type: "number", min: 1, max: 10080, value: value("presign_ttl", 15) });
  const [deletes, deletesField] = box("can_delete_objects", "Can delete objects from storage", false,
    "(an annotation deleted here is deleted from the bucket)");
  const note = status();

  function read() {
    const body = {
      title: title.value, bucket: bucket.value.trim(), prefix: prefix.value.trim(),
      region_name: region.value.trim(), s3_endpoint: endpoint.value.trim(), role_arn: roleArn.value.trim(),
    };
    if (source) {
      Object.assign(body, { regex_filter: regex.value, use_blob_urls: blobs.checked,
        recursive_scan: recursive.checked, presign: presign.checked, presign_ttl: Number(ttl.value) });
    } else {
      body.can_delete_objects = deletes.checked;
    }
    for (const [name, input] of credentials) if (input.value) body[name] = input.value;
    return body;
  }

  async function check() {
    note.set("Checking…");
    try {
      await api("POST", `${base}/validate`, { project: project.id, ...(editing ? { id: storage.id } : {}), ...read() });
      note.set("Connection successful.", "ok");
    } catch (error) { note.set(error.message, "error"); }
  }

  const dialog = h("dialog", { class: "card storage-form", "data-testid": "storage-form" },
    h("form", { onsubmit: async (event) => {
      event.preventDefault();
      note.set("");
      try {
        if (editing) await api("PATCH", `${base}/${storage.id}`, read());
        else await api("POST", base, { project: project.id, ...read() });
        dialog.close();
        await onSaved();
      } catch (error) { note.set(error.message, "error"); }
    } },
    h("h2", {}, `${editing ? "Edit" : "Add"} ${source ? "Source" : "Target"} Storage: AWS S3`),
    h("div", { class: "pair" }, titleField, bucketField),
    h("div", { class: "pair" }, prefixField, source ? regexField : h("span")),
    h("div", { class: "pair" }, regionField, endpointField),
    h("fieldset", {}, h("legend", {}, "Credentials (write-only; none: the server's own AWS role)"),
      h("div", { class: "pair" }, credentials[0][2], credentials[1][2]), credentials[2][2], roleField,
      editing && storage.external_id ? h("p", { class: "muted small" },
        "External ID for the role's trust policy: ", h("code", {}, storage.external_id)) : null),
    source ? [blobsField, recursiveField, presignField,
      h("label", {}, "Expire pre-signed URLs (minutes)", ttl)] : deletesField,
    note,
    h("div", { class: "toolbar spaced" },
      h("button", { type: "button", onclick: check }, "Check Connection"),
      h("button", { type: "submit", class: "primary" }, editing ? "Save" : "Add Storage"),
      h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"))));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}
