// Keyboard shortcuts of the labeling page, and the small panel that lists them. The Label Studio Frontend
// binds its own (its keymap: submit, skip, undo, choices by number); the page adds moving through the
// stream's history and the panel itself, on keys the frontend leaves alone.

import { h } from "./dom.js";

// What the Label Studio Frontend binds (its keymap), as a labeler needs to know it.
const FRONTEND_KEYS = [
  ["Ctrl + Enter", "Submit (or Update) the annotation"],
  ["Ctrl + Space", "Skip the task"],
  ["Ctrl + Z", "Undo"],
  ["Ctrl + Shift + Z", "Redo"],
  ["1, 2, 3 …", "Pick the choice or label with that number"],
  ["Backspace", "Delete the selected region"],
  ["Escape", "Unselect the region"],
  ["Alt + .", "Go to the next region"],
];

function typing(target) {
  return target instanceof HTMLElement
    && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

/**
 * `keys`: [{key: "Alt+ArrowLeft", label: "Alt + ←", what: "Back", run}] — the page's own shortcuts.
 * Returns {panel, toggle, dispose}: the help panel (hidden until asked for; "?" shows it) and a way to
 * stop listening when the page goes.
 */
export function shortcuts(keys) {
  const rows = [...keys.map((k) => [k.label, k.what]), ["?", "Show or hide this list"], ...FRONTEND_KEYS];
  const panel = h("aside", { class: "card shortcuts", "data-testid": "shortcuts", hidden: true,
    "aria-label": "Keyboard shortcuts" },
  h("div", { class: "toolbar" }, h("h2", {}, "Keyboard shortcuts"),
    h("button", { type: "button", class: "icon", "aria-label": "Close shortcuts", onclick: () => { panel.hidden = true; } }, "×")),
  h("table", {}, h("tbody", {}, rows.map(([key, what]) => h("tr", {}, h("td", {}, h("kbd", {}, key)), h("td", {}, what))))));
  const toggle = () => { panel.hidden = !panel.hidden; };

  function onKey(event) {
    if (!panel.isConnected) { dispose(); return; }  // the page went: its keys go with it
    if (typing(event.target)) return;
    const pressed = `${event.altKey ? "Alt+" : ""}${event.ctrlKey ? "Ctrl+" : ""}${event.key}`;
    if (event.key === "?" && !event.altKey && !event.ctrlKey) {
      event.preventDefault();
      toggle();
      return;
    }
    const bound = keys.find((k) => k.key === pressed);
    if (bound) {
      event.preventDefault();  // Alt + arrow would also move the browser through its history
      bound.run();
    }
  }
  const dispose = () => document.removeEventListener("keydown", onKey);
  document.addEventListener("keydown", onKey);
  return { panel, toggle, dispose };
}
