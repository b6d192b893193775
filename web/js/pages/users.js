// The installation's users, for admins: their roles, deactivation, new users and invitation links.

import { api } from "../api.js";
import { h, show, status } from "../dom.js";
import { copyField, inviteForm } from "../invites.js";
import { canManageUsers } from "../roles.js";

const ROLES = ["annotator", "reviewer", "manager", "admin"];

export async function usersPage({ user }) {
  if (!canManageUsers(user)) {
    // No link leads here for other roles; a typed URL gets a plain answer, not forms that would be refused.
    show(h("h1", {}, "Users"), h("p", { class: "status error", "data-testid": "not-allowed" },
      "Only admins manage users."));
    return;
  }
  const users = await api("GET", "/api/users");
  const note = status();
  const table = usersTable(users, user, note);
  show(h("h1", {}, "Users"),
    h("section", { class: "card" }, table, note),
    inviteForm(user),
    createForm((created) => table.add(created)),
    revokeInvites());
}

/** The users' table; `.add(user)` puts a new one at its end. */
function usersTable(users, me, note) {
  const row = (u) => {
    const name = [u.first_name, u.last_name].filter(Boolean).join(" ");
    const self = u.id === me.id;
    // Admins change neither their own role nor their own activity (the API refuses both).
    const role = self ? h("span", {}, u.role, h("span", { class: "muted" }, " (you)"))
      : h("select", { "aria-label": `Role of ${u.email}`, onchange: async (event) => {
        try {
          const saved = await api("PATCH", `/api/users/${u.id}`, { role: event.target.value });
          u.role = saved.role;
          note.set(`${u.email} is now ${saved.role === "admin" ? "an" : "a"} ${saved.role}.`, "ok");
        } catch (error) { event.target.value = u.role; note.set(error.message, "error"); }
      } }, ROLES.map((r) => h("option", { value: r }, r)));
    if (!self) role.value = u.role;
    const active = self ? null : h("button", { type: "button", onclick: async () => {
      try {
        const saved = await api("PATCH", `/api/users/${u.id}`, { is_active: !u.is_active });
        note.set(saved.is_active
          ? `${u.email} is active again, with a new API token (every earlier one stays dead).`
          : `${u.email} is deactivated: their tokens and sessions no longer work.`, "ok");
        Object.assign(u, saved);
        tr.replaceWith(row(u));
      } catch (error) { note.set(error.message, "error"); }
    } }, u.is_active ? "Deactivate" : "Reactivate");
    const tr = h("tr", { "data-user": u.email },
      h("td", {}, u.email), h("td", {}, name), h("td", {}, role),
      h("td", {}, u.is_active ? "active" : h("span", { class: "muted" }, "deactivated")), h("td", {}, active));
    return tr;
  };
  const body = h("tbody", {}, users.map(row));
  const table = h("table", { class: "tasks", "data-testid": "users" },
    h("thead", {}, h("tr", {}, ["Email", "Name", "Role", "Status", ""].map((c) => h("th", {}, c)))), body);
  table.add = (u) => body.append(row(u));
  return table;
}

function createForm(onCreated) {
  const note = status();
  const result = h("div");
  const email = h("input", { type: "email", name: "email", required: true });
  const role = h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r }, r)));
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password", minlength: 8,
    maxlength: 128 });
  return h("form", { class: "card", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const created = await api("POST", "/api/users", { email: email.value, role: role.value,
        ...(password.value ? { password: password.value } : {}) });
      password.value = "";
      email.value = "";
      onCreated(created);
      note.set(`Created ${created.email}.`, "ok");
      result.replaceChildren(h("p", { class: "muted" }, "Their API token, shown this once:"),
        copyField("New user's API token", created.token, "new-user-token"));
    } catch (error) { note.set(error.message, "error"); }
  } },
  h("h2", {}, "Create a user"),
  h("label", {}, "Email", email),
  h("label", {}, "New user's role", role),
  h("label", {}, "Password (optional: without one they sign in with their API token)", password),
  h("button", { class: "primary", type: "submit" }, "Create user"), note, result);
}

function revokeInvites() {
  const note = status();
  return h("section", { class: "card" }, h("h2", {}, "Open invitations"),
    h("p", { class: "muted" }, "Every invitation link works once, and only for a few days. Revoke them all if one went "
      + "where it should not have."),
    h("button", { type: "button", onclick: async () => {
      try {
        await api("POST", "/api/invite/reset-token");
        note.set("Every open invitation link was revoked.", "ok");
      } catch (error) { note.set(error.message, "error"); }
    } }, "Revoke all invitation links"), note);
}
