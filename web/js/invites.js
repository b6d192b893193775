// Making an invitation link (the Users page, and a project's members for its managers), and showing a
// secret once with a Copy button.

import { api } from "./api.js";
import { h, status } from "./dom.js";
import { invitableRoles } from "./roles.js";

/** A read-only field with a secret or a link in it and a Copy button; `label` names the field. */
export function copyField(label, value, testId) {
  const note = status();
  const field = h("input", { readonly: true, value, "aria-label": label, class: "secret", "data-testid": testId,
    onfocus: () => field.select() });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      note.set("Copied.", "ok");
    } catch {
      // No clipboard (a page not served over HTTPS, or permission refused): the text is selected instead.
      field.focus();
      note.set("Press Ctrl+C (⌘C) to copy.");
    }
  };
  return h("div", { class: "copy-field" }, h("div", { class: "toolbar" }, field,
    h("button", { type: "button", onclick: copy }, "Copy")), note);
}

/** The form that makes a sign-up link: a role the user may give, optionally an email it is for; inside a
 *  project (`projectId`) the new user joins it. Not drawn for a user who may invite no one. */
export function inviteForm(user, projectId = null) {
  const roles = invitableRoles(user);
  if (!roles.length) return null;
  const note = status();
  const result = h("div", { "data-testid": "invite-result" });
  const role = h("select", { name: "role" }, roles.map((r) => h("option", { value: r }, r)));
  const email = h("input", { type: "email", name: "email", placeholder: "anyone with the link" });
  return h("form", { class: "card", onsubmit: async (event) => {
    event.preventDefault();
    note.set("");
    try {
      const invite = await api("POST", "/api/invite", {
        role: role.value, ...(projectId ? { project: Number(projectId) } : {}),
        ...(email.value.trim() ? { email: email.value.trim() } : {}),
      });
      const link = new URL(invite.invite_url, location.origin).href;
      result.replaceChildren(copyField("Invitation link", link, "invite-link"),
        h("p", { class: "muted" }, `For one ${invite.role}${invite.email ? ` (${invite.email})` : ""}; `
          + `it works once, until ${new Date(invite.expires_at).toLocaleString()}.`));
    } catch (error) { note.set(error.message, "error"); }
  } },
  h("h2", {}, projectId ? "Invite someone new to this project" : "Invite someone"),
  h("div", { class: "toolbar invite-fields" }, h("label", { class: "inline" }, "Invite as", role),
    h("label", { class: "inline" }, "For email (optional)", email),
    h("button", { class: "primary", type: "submit" }, "Create invitation link")),
  note, result);
}
