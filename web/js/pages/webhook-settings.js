// A project's webhooks (settings, "Webhooks"), as Label Studio's page has them: the list (active toggle,
// URL, created, Edit, Delete) and the form (payload URL, active, headers, send payload, all actions or
// chosen ones). labelstack adds the signing secret, "Send test" and the delivery log. Header values and the
// secret are write-only: the form never shows a stored one, and an empty value field keeps it.

import { api } from "../api.js";
import { h, status } from "../dom.js";

const MASK = "********"; // what the API answers for a stored header value, and takes back as "keep it"
const POLL_MS = 1000;
const TEST_WAIT_MS = 30_000;

/** The "Webhooks" section. */
export async function webhookSettings(project) {
  // A project's webhook may be sent only the actions that are not organization-only.
  const actions = await api("GET", "/api/webhooks/info?organization-only=false");
  const root = h("div", { class: "webhooks", "data-testid": "webhooks" });
  const view = { list: () => drawList(project, root, view), edit: (hook) => drawForm(project, actions, root, view, hook) };
  await view.list();
  return [root];
}

async function drawList(project, root, view) {
  const note = status();
  let hooks = [];
  try { hooks = await api("GET", `/api/webhooks?project=${project.id}`); } catch (error) { note.set(error.message, "error"); }
  const item = (hook) => {
    const active = h("input", { type: "checkbox", checked: hook.is_active, "aria-label": `Active: ${hook.url}`,
      title: "Active: deliveries are sent",
      onchange: async () => {
        try {
          Object.assign(hook, await api("PATCH", `/api/webhooks/${hook.id}`, { is_active: active.checked }));
        } catch (error) { active.checked = hook.is_active; note.set(error.message, "error"); }
      } });
    return h("li", { class: "webhook-item", "data-webhook": hook.id },
      active,
      h("a", { href: "#", class: "webhook-url", onclick: (event) => { event.preventDefault(); view.edit(hook); } },
        hook.url),
      h("span", { class: "muted" }, `Created ${new Date(hook.created_at).toLocaleString()}`),
      h("button", { type: "button", onclick: () => view.edit(hook) }, "Edit"),
      h("button", { type: "button", onclick: async () => {
        if (!window.confirm(`Delete the webhook to ${hook.url}? Its delivery log goes with it.`)) return;
        try { await api("DELETE", `/api/webhooks/${hook.id}`); await view.list(); } catch (error) { note.set(error.message, "error"); }
      } }, "Delete"));
  };
  root.replaceChildren(h("section", { class: "card" },
    h("h2", {}, "Webhooks"),
    h("p", { class: "muted" }, "Each event of this project is POSTed as JSON to the URLs below, signed with "
      + "X-Labelstack-Signature: sha256=HMAC of the body with the webhook's secret."),
    hooks.length ? h("ul", { class: "plain webhook-list" }, hooks.map(item))
      : h("p", { class: "muted" }, "No webhooks yet."),
    note,
    h("button", { type: "button", class: "primary", onclick: () => view.edit(null) }, "Add Webhook")));
}

function drawForm(project, actions, root, view, hook) {
  const editing = hook !== null;
  const note = status();
  const url = h("input", { name: "url", type: "url", required: true, placeholder: "https://example.com/hook",
    value: editing ? hook.url : "" });
  const active = h("input", { type: "checkbox", name: "is_active", checked: editing ? hook.is_active : true });
  const sendPayload = h("input", { type: "checkbox", name: "send_payload", checked: editing ? hook.send_payload : true });
  const allActions = h("input", { type: "checkbox", name: "send_for_all_actions",
    checked: editing ? hook.send_for_all_actions : true, onchange: () => { chosen.hidden = allActions.checked; } });
  const chosenSet = new Set(editing ? hook.actions : []);
  const actionBoxes = Object.entries(actions).map(([key, info]) => {
    const box = h("input", { type: "checkbox", name: key, checked: chosenSet.has(key) });
    return [key, box, h("label", { class: "inline" }, box, info.name)];
  });
  const chosen = h("fieldset", { class: "webhook-actions" }, h("legend", {}, "Send Payload for"),
    actionBoxes.map(([, , field]) => field));
  chosen.hidden = allActions.checked;
  const secret = h("input", { name: "secret", type: "password", autocomplete: "new-password", minlength: 16,
    placeholder: editing && hook.secret_is_set ? "Saved — leave empty to keep it" : "16 to 256 characters; generated if empty" });

  // Headers: a stored value is never shown; its field stays empty and sends the mask, which keeps it.
  const stored = new Set(editing ? Object.keys(hook.headers) : []);
  const headerRows = h("div", { class: "header-rows" });
  const addHeader = (name = "") => {
    const key = h("input", { placeholder: "header", value: name, "aria-label": "Header name" });
    const value = h("input", { placeholder: stored.has(name) ? "Saved — leave empty to keep it" : "value",
      "aria-label": "Header value", type: "password", autocomplete: "new-password" });
    const row = h("div", { class: "toolbar header-row" }, key, value,
      h("button", { type: "button", "aria-label": "Remove header", onclick: () => row.remove() }, "×"));
    row.read = () => [key.value.trim(), value.value || (stored.has(key.value.trim()) ? MASK : "")];
    headerRows.append(row);
  };
  for (const name of stored) addHeader(name);

  function read() {
    const body = {
      url: url.value.trim(), is_active: active.checked, send_payload: sendPayload.checked,
      send_for_all_actions: allActions.checked,
      actions: actionBoxes.filter(([, box]) => box.checked).map(([key]) => key),
      headers: Object.fromEntries([...headerRows.children].map((row) => row.read()).filter(([name]) => name)),
    };
    if (secret.value) body.secret = secret.value;
    return body;
  }

  const form = h("form", { class: "card webhook-form", onsubmit: async (event) => {
    event.preventDefault();
    note.set("");
    try {
      if (editing) await api("PATCH", `/api/webhooks/${hook.id}`, read());
      else await api("POST", "/api/webhooks", { project: project.id, ...read() });
      await view.list();
    } catch (error) { note.set(error.message, "error"); }
  } },
  h("h2", {}, h("a", { href: "#", onclick: (event) => { event.preventDefault(); view.list(); } }, "Webhooks"),
    ` / ${editing ? "Edit Webhook" : "New Webhook"}`),
  h("div", { class: "toolbar url-row" }, h("label", { class: "grow" }, "Payload URL", url),
    h("label", { class: "inline" }, active, "Is Active")),
  h("div", { class: "field" }, h("div", { class: "toolbar" }, h("strong", {}, "Headers"),
    h("button", { type: "button", onclick: () => addHeader() }, "Add header")), headerRows),
  h("div", { class: "field" }, h("strong", {}, "Payload"),
    h("label", { class: "inline" }, sendPayload, "Send payload"),
    h("label", { class: "inline" }, allActions, "Send for all actions"), chosen),
  h("label", {}, "Signing secret (write-only)", secret),
  note,
  h("div", { class: "toolbar spaced" },
    editing ? h("button", { type: "button", class: "danger", onclick: async () => {
      if (!window.confirm(`Delete the webhook to ${hook.url}? Its delivery log goes with it.`)) return;
      try { await api("DELETE", `/api/webhooks/${hook.id}`); await view.list(); } catch (error) { note.set(error.message, "error"); }
    } }, "Delete Webhook") : null,
    h("button", { type: "button", onclick: () => view.list() }, "Cancel"),
    h("button", { type: "submit", class: "primary" }, editing ? "Save" : "Add Webhook")));
  root.replaceChildren(...(editing ? [form, deliveriesLog(hook)] : [form]));
}

/** The webhook's recent deliveries, and "Send test": a delivery followed until it is sent or failed. */
function deliveriesLog(hook) {
  const note = status();
  const body = h("tbody");
  const table = h("table", { class: "tasks deliveries", "data-testid": "deliveries" },
    h("thead", {}, h("tr", {}, ["Time", "Event", "Status", "Attempts", "Response", "Error"].map((c) => h("th", {}, c)))),
    body);
  const load = async () => {
    const deliveries = await api("GET", `/api/webhooks/${hook.id}/deliveries?limit=50`);
    body.replaceChildren(...(deliveries.length ? deliveries.map((d) => h("tr", { "data-delivery": d.id, "data-status": d.status },
      h("td", {}, d.created_at ? new Date(d.created_at).toLocaleString() : ""), h("td", {}, d.action),
      h("td", { class: d.status === "failed" ? "error" : d.status === "delivered" ? "ok" : "" }, d.status),
      h("td", { class: "num" }, d.attempts), h("td", { class: "num" }, d.response_status ?? ""),
      h("td", { class: "data" }, d.error || ""))) : [h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No deliveries yet."))]));
    return deliveries;
  };
  const refresh = () => load().catch((error) => note.set(error.message, "error"));

  async function sendTest() {
    note.set("Sending a test…");
    try {
      const queued = await api("POST", `/api/webhooks/${hook.id}/test`);
      const until = Date.now() + TEST_WAIT_MS;
      while (table.isConnected && Date.now() < until) {
        const found = (await load()).find((d) => d.id === queued.id);
        if (found?.status === "delivered") { note.set(`Test delivered: the receiver answered ${found.response_status}.`, "ok"); return; }
        if (found?.status === "failed") { note.set(`Test failed: ${found.error}`, "error"); return; }
        if (found?.status === "retrying") note.set(`Test not delivered yet (${found.error}); retrying…`, "error");
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      if (table.isConnected) note.set("The test is still queued; refresh the log to follow it.");
    } catch (error) { note.set(error.message, "error"); }
  }

  refresh();
  return h("section", { class: "card" },
    h("div", { class: "toolbar" }, h("h2", {}, "Deliveries"),
      h("button", { type: "button", class: "primary", onclick: sendTest }, "Send test"),
      h("button", { type: "button", onclick: refresh }, "Refresh")),
    note, table);
}
