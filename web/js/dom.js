// Building the page with DOM APIs only. Nothing here parses HTML, so task data, label configs and titles
// always show as text, whatever they contain (instructions, which are HTML, go through html.js).

/** h("button", {class: "primary", onclick: fn}, "Save") — attributes are set, never parsed. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "value") el.value = value;
    else if (name === "checked") el.checked = Boolean(value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false)
    .map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return el;
}

/** Replace the page's content; null/false children (a control the user's role does not get) are skipped. */
export function show(...children) {
  document.getElementById("page").replaceChildren(...children.filter((c) => c !== null && c !== undefined && c !== false));
}

/** A message line that can be updated: `const note = status(); note.set("Saved")`. */
export function status() {
  const el = h("p", { class: "status", role: "status" });
  el.set = (text, kind = "") => { el.textContent = text; el.className = `status ${kind}`; };
  return el;
}

/** A short, single-line view of a task data value for a table cell. */
export function preview(value, length = 120) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > length ? `${text.slice(0, length)}…` : text;
}
