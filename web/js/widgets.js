// Small pieces the model pages share: a switch, a modal dialog, times and durations as people read them.

import { h } from "./dom.js";

/** Label Studio's Toggle: a switch with its label and, below, what it does. `input.checked` is its value. */
export function toggle(name, checked, label, description = "") {
  const input = h("input", { type: "checkbox", role: "switch", name, checked });
  const element = h("label", { class: "toggle" }, input,
    h("span", { class: "toggle-text" }, h("span", {}, label), description ? h("small", { class: "muted" }, description) : null));
  element.input = input;
  return element;
}

/** A modal dialog with a title, `body` and a Close button; removed from the page once closed. */
export function modal(title, body, { testId, wide = false, onClose } = {}) {
  const dialog = h("dialog", { class: `card modal${wide ? " wide" : ""}`, "data-testid": testId, "aria-label": title },
    h("div", { class: "modal-head" }, h("h2", {}, title),
      h("button", { type: "button", class: "icon", "aria-label": "Close", onclick: () => dialog.close() }, "×")),
    body);
  dialog.addEventListener("close", () => { dialog.remove(); onClose?.(); });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

const RELATIVE = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const STEPS = [[60, "second"], [60, "minute"], [24, "hour"], [30, "day"], [12, "month"], [Infinity, "year"]];

/** "3 minutes ago" for an ISO time. */
export function ago(iso) {
  if (!iso) return "";
  let amount = (Date.parse(iso) - Date.now()) / 1000;
  for (const [size, unit] of STEPS) {
    if (Math.abs(amount) < size) return RELATIVE.format(Math.round(amount), unit);
    amount /= size;
  }
  return "";
}

/** "1 min 5 s" between two ISO times (the second one now when it is missing). */
export function duration(startIso, endIso) {
  if (!startIso) return "";
  const seconds = Math.max(0, Math.round(((endIso ? Date.parse(endIso) : Date.now()) - Date.parse(startIso)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A JSON value, indented, for a <pre>. */
export const pretty = (value) => (value === undefined ? "" : JSON.stringify(value, null, 2));

/** Run `step` every `ms` while `element` is on the page and `step` answers true; one loop at a time. */
export function poll(element, ms, step) {
  if (element.polling) return;
  element.polling = true;
  const tick = async () => {
    let again = false;
    try {
      again = element.isConnected && await step();
    } catch {
      again = false;  // `step` shows its own errors; a failed step ends the loop
    } finally {
      if (again && element.isConnected) setTimeout(tick, ms);
      else element.polling = false;
    }
  };
  setTimeout(tick, ms);
}
