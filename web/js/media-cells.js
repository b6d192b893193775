// Data Manager cells for task media: a small thumbnail for the data keys the label config shows as images
// (Label Studio's ImageCell), text for everything else. Thumbnails have a fixed size, so the table does
// not jump while they load, and load lazily, so a page of tasks fetches only the images on screen.

import { h, preview } from "./dom.js";

const THUMB_WIDTH = 96;
const THUMB_HEIGHT = 64;

/** The data keys the config's <Image> tags read (`value="$key"`, or `valueList` for several images). */
export function imageKeys(parsedLabelConfig) {
  const keys = new Set();
  for (const control of Object.values(parsedLabelConfig || {})) {
    for (const input of control.inputs || []) {
      if (input.type === "Image") keys.add(input.value || input.valueList);
    }
  }
  keys.delete(undefined);
  return keys;
}

function urlSafeBase64(text) {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Where the browser loads an image value from, or null for a value that is not an image link. An
 * `s3://` URI goes through the task's presign redirect (as the label stream's copy of the task does). */
export function imageSource(value, taskId) {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first !== "string") return null;
  if (first.startsWith("s3://")) return `/tasks/${taskId}/presign/?fileuri=${urlSafeBase64(first)}`;
  if (/^(\/(?!\/)|https?:\/\/|data:image\/)/i.test(first)) return first;
  return null;
}

/** The cell content for a task's `key`: a thumbnail for image keys with a link value, else its text. */
export function dataCell(task, key, images) {
  const value = task.data?.[key] ?? "";
  const source = images.has(key) ? imageSource(value, task.id) : null;
  if (!source) return preview(value);
  return h("img", {
    class: "thumb", src: source, alt: `${key} of task ${task.id}`, title: preview(value, 300),
    loading: "lazy", decoding: "async", width: THUMB_WIDTH, height: THUMB_HEIGHT,
    "data-testid": "thumbnail",
  });
}
